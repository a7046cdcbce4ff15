import * as Automerge from "@automerge/automerge";
import { insertCell, setCellSource } from "../../lib/notebook/cells";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import { DocumentReplica } from "../../lib/session/document-replica";
import { waitFor } from "../wait-for";

/** The daemon's end, by hand: its own document and sync state with the replica. */
class DaemonEnd {
  doc: Automerge.Doc<NotebookDoc> = Automerge.change(createNotebookDoc(), (draft) => void insertCell(draft, { id: "cell-1", cellType: "code", source: "" }));
  private state = Automerge.initSyncState();
  /** Messages the replica sent. */
  readonly heard: Uint8Array[] = [];

  constructor(private readonly replica: DocumentReplica) {
    replica.attach((message) => {
      this.heard.push(message);
      [this.doc, this.state] = Automerge.receiveSyncMessage(this.doc, this.state, message);
    });
  }

  /** Sends the replica what it lacks. */
  say(): void {
    for (;;) {
      const [state, message] = Automerge.generateSyncMessage(this.doc, this.state);
      this.state = state;
      if (!message) return;
      this.replica.receive(message);
    }
  }

  edit(source: string): void {
    this.doc = Automerge.change(this.doc, (draft) => setCellSource(draft, 0, source));
    this.say();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A replica and the daemon's end, after their first sync. */
async function syncedPair(): Promise<{ replica: DocumentReplica; daemon: DaemonEnd }> {
  const replica = new DocumentReplica();
  const daemon = new DaemonEnd(replica);
  daemon.say();
  await waitFor("the first sync", () => replica.doc.cells.length === 1, 5000);
  return { replica, daemon };
}

describe("DocumentReplica's answers to the daemon", () => {
  it("answers a burst of changes once, after they stop, with heads that hold them all", async () => {
    const { replica, daemon } = await syncedPair();
    await sleep(100);
    const before = daemon.heard.length;
    for (let edit = 1; edit <= 5; edit++) {
      daemon.edit(`x = ${edit}`);
      await sleep(5);
    }
    expect(replica.doc.cells[0]!.source).toBe("x = 5");
    await waitFor("the replica's answer", () => daemon.heard.length > before);
    await sleep(100);
    expect(daemon.heard.length).toBe(before + 1);
    expect(Automerge.decodeSyncMessage(daemon.heard.at(-1)!).heads).toEqual(Automerge.getHeads(daemon.doc));
    replica.complete();
  });

  it("answers during changes that never stop, not only after them", async () => {
    const { replica, daemon } = await syncedPair();
    await sleep(100);
    const before = daemon.heard.length;
    let edit = 0;
    const editing = setInterval(() => daemon.edit(`y = ${++edit}`), 10);
    try {
      await waitFor("an answer while the edits go on", () => daemon.heard.length > before);
      expect(edit).toBeGreaterThan(1);
    } finally {
      clearInterval(editing);
    }
    replica.complete();
  });

  it("sends its own change at once, whatever answer is waiting", async () => {
    const { replica, daemon } = await syncedPair();
    daemon.edit("from the daemon");
    const before = daemon.heard.length;
    replica.change("edit", (draft) => setCellSource(draft, 0, "from the replica"));
    expect(daemon.heard.length).toBe(before + 1);
    expect(daemon.doc.cells[0]!.source).toBe("from the replica");
    replica.complete();
  });
});
