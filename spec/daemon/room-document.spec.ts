import * as Automerge from "@automerge/automerge";
import { RoomDocument, type SyncPeer } from "../../lib/daemon/room-document";
import { insertCell, readCells, setCellSource } from "../../lib/notebook/cells";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import { notebookProblem } from "../../lib/notebook/validate";
import { RuntimedError } from "../../lib/protocol/errors";

/** A client's replica, synced with the room by hand (no sockets): messages go through `inbox`. */
class Replica implements SyncPeer {
  private static nextId = 1;
  readonly peerId = Replica.nextId++;
  doc: Automerge.Doc<NotebookDoc> = createNotebookDoc();
  private state = Automerge.initSyncState();
  private readonly inbox: Uint8Array[] = [];

  sendSync(message: Uint8Array): void {
    this.inbox.push(message);
  }

  /** Syncs with `room` until neither side has anything to say; rethrows the room's refusal. */
  syncWith(room: RoomDocument): void {
    for (let round = 0; round < 20; round++) {
      room.flushSync();
      let heard = false;
      for (const message of this.inbox.splice(0)) {
        [this.doc, this.state] = Automerge.receiveSyncMessage(this.doc, this.state, message);
        heard = true;
      }
      let said = false;
      for (;;) {
        const [state, message] = Automerge.generateSyncMessage(this.doc, this.state);
        this.state = state;
        if (!message) break;
        said = true;
        room.receiveSync(this, message);
      }
      if (!heard && !said) return;
    }
    throw new Error("sync did not settle");
  }

  change(mutate: (draft: NotebookDoc) => void): void {
    this.doc = Automerge.change(this.doc, mutate);
  }
}

function roomWithOneCell(refused: string[]): { room: RoomDocument; cellId: string } {
  const cellId = "cell-00000000-0000-4000-8000-000000000001";
  const doc = Automerge.change(createNotebookDoc(), (draft) => void insertCell(draft, { id: cellId, cellType: "code", source: "x = 1" }));
  return { room: new RoomDocument(doc, { refused: (_peer, problem) => refused.push(problem) }), cellId };
}

describe("RoomDocument and a change that breaks the schema", () => {
  it("refuses it with PROTOCOL, then takes the daemon's own changes and other peers' as before", () => {
    const refused: string[] = [];
    const { room, cellId } = roomWithOneCell(refused);
    const honest = new Replica();
    const hostile = new Replica();
    room.addPeer(honest);
    room.addPeer(hostile);
    honest.syncWith(room);
    hostile.syncWith(room);

    hostile.change((draft) => void delete (draft as Partial<NotebookDoc>).cells);
    let error: unknown;
    try {
      hostile.syncWith(room);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RuntimedError);
    expect((error as RuntimedError).code).toBe("PROTOCOL");
    expect(refused).toEqual(["`cells` is not a list"]);
    room.removePeer(hostile);
    expect(Automerge.hasHeads(room.doc, Automerge.getHeads(hostile.doc))).toBe(false);

    // The daemon writes (an execution's outputs would) and the honest peer edits: both land.
    room.change("execution count", (draft) => void (draft.cells[0]!.execution_count = 1));
    honest.change((draft) => void setCellSource(draft, 0, "x = 2"));
    honest.syncWith(room);
    expect(readCells(room.doc)).toEqual(readCells(honest.doc));
    expect(readCells(honest.doc)).toMatchObject([{ id: cellId, source: "x = 2", executionCount: 1 }]);
    expect(notebookProblem(Automerge.load<NotebookDoc>(Automerge.save(room.doc)))).toBeUndefined();
  });

  it("what it saves and what a new peer receives hold nothing of the refused change", () => {
    const refused: string[] = [];
    const { room } = roomWithOneCell(refused);
    const hostile = new Replica();
    room.addPeer(hostile);
    hostile.syncWith(room);
    hostile.change((draft) => void ((draft.cells[0] as unknown as { source: number }).source = 42));
    expect(() => hostile.syncWith(room)).toThrow(/source/);
    room.removePeer(hostile);

    const newcomer = new Replica();
    room.addPeer(newcomer);
    newcomer.syncWith(room);
    expect(readCells(newcomer.doc)[0]!.source).toBe("x = 1");
    const saved = Automerge.load<NotebookDoc>(Automerge.save(room.doc));
    expect(notebookProblem(saved)).toBeUndefined();
    expect(Automerge.getAllChanges(saved).length).toBe(Automerge.getAllChanges(newcomer.doc).length);
  });
});

/** A peer that records what the room sends it, and answers only when told to. */
class Recorder implements SyncPeer {
  private static nextId = 100;
  readonly peerId = Recorder.nextId++;
  doc: Automerge.Doc<NotebookDoc> = createNotebookDoc();
  state = Automerge.initSyncState();
  readonly received: Uint8Array[] = [];

  sendSync(message: Uint8Array): void {
    this.received.push(message);
    [this.doc, this.state] = Automerge.receiveSyncMessage(this.doc, this.state, message);
  }

  /** Sends the room what this peer has to say (its changes, or its acknowledgement). */
  answer(room: RoomDocument): void {
    for (;;) {
      const [state, message] = Automerge.generateSyncMessage(this.doc, this.state);
      this.state = state;
      if (!message) return;
      room.receiveSync(this, message);
    }
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function until(what: string, condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Adds the peers and syncs until each holds the room's document and has nothing more to say. */
async function joinAll(room: RoomDocument, peers: Recorder[]): Promise<void> {
  for (const peer of peers) room.addPeer(peer);
  await until("every peer to hold the room's document", () => {
    for (const peer of peers) peer.answer(room);
    return peers.every((peer) => Automerge.hasHeads(peer.doc, room.heads));
  });
  // Let the last acknowledgements go both ways.
  await new Promise((resolve) => setTimeout(resolve, 700));
  for (const peer of peers) peer.answer(room);
  await nextTurn();
}

describe("RoomDocument's sync round after a change", () => {
  it("sends readers in the same state one and the same message, and every reader ends with the writer's text", async () => {
    const { room } = roomWithOneCell([]);
    const writer = new Recorder();
    const readers = Array.from({ length: 4 }, () => new Recorder());
    await joinAll(room, [writer, ...readers]);
    for (let edit = 1; edit <= 5; edit++) {
      writer.doc = Automerge.change(writer.doc, (draft) => setCellSource(draft, 0, `z = ${edit}`));
      const before = readers.map((reader) => reader.received.length);
      writer.answer(room);
      await nextTurn();
      const sent = readers.map((reader, i) => reader.received.slice(before[i]));
      expect(sent.map((messages) => messages.length)).toEqual([1, 1, 1, 1]);
      // Readers that have seen the same changes are in the same state: one message for all.
      expect(new Set(sent.map((messages) => messages[0])).size).toBe(1);
    }
    for (const reader of readers) expect(readCells(reader.doc)[0]!.source).toBe("z = 5");
    // They answer at different moments: from then on their states differ, and each still gets what it lacks.
    readers[0]!.answer(room);
    readers[2]!.answer(room);
    writer.doc = Automerge.change(writer.doc, (draft) => setCellSource(draft, 0, "z = 6"));
    writer.answer(room);
    await nextTurn();
    for (const reader of readers) expect(readCells(reader.doc)[0]!.source).toBe("z = 6");
    room.dispose();
  });

  it("acknowledges the author of a change once its edits stop, not with each edit", async () => {
    const { room } = roomWithOneCell([]);
    const writer = new Recorder();
    const reader = new Recorder();
    await joinAll(room, [writer, reader]);
    const acknowledged = writer.received.length;
    for (let edit = 1; edit <= 3; edit++) {
      writer.doc = Automerge.change(writer.doc, (draft) => setCellSource(draft, 0, `y = ${edit}`));
      writer.answer(room);
      await nextTurn();
    }
    // The reader has every edit; the writer has heard nothing yet...
    expect(readCells(reader.doc)[0]!.source).toBe("y = 3");
    expect(writer.received.length).toBe(acknowledged);
    // ...until one acknowledgement comes for all three.
    await until("the writer's acknowledgement", () => writer.received.length > acknowledged);
    expect(Automerge.decodeSyncMessage(writer.received.at(-1)!).heads).toEqual(Automerge.getHeads(writer.doc));
    expect(writer.received.length).toBe(acknowledged + 1);
    room.dispose();
  });
});
