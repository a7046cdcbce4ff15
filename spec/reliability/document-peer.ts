/**
 * A raw Automerge client for the reliability suite: it joins a room over a plain `DaemonConnection`
 * and syncs a document of its own with the daemon, so it can make changes no `Session` would
 * (delete `cells`, a cell without an id, a number where text belongs) and send them as they are.
 */
import * as Automerge from "@automerge/automerge";
import { firstValueFrom } from "rxjs";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import type { RuntimedError } from "../../lib/protocol/errors";
import { PROTOCOL_VERSION } from "../../lib/protocol/messages";
import type { DaemonConnection } from "../../lib/transport/daemon-connection";
import { openUnixConnection } from "../../lib/transport/unix-socket";
import { waitFor } from "./processes";

/** One raw peer in one room; the daemon may close it at any time. */
export class DocumentPeer {
  private doc: Automerge.Doc<NotebookDoc> = createNotebookDoc();
  private syncState = Automerge.initSyncState();
  /** Resolves with the error the connection ended with (null: closed by us). */
  readonly closed: Promise<RuntimedError | null>;

  private constructor(private readonly connection: DaemonConnection) {
    this.closed = firstValueFrom(connection.closed$);
    connection.sync$.subscribe((message) => {
      [this.doc, this.syncState] = Automerge.receiveSyncMessage(this.doc, this.syncState, message);
      this.flush();
    });
  }

  /** Joins `notebookId` and resolves once this peer holds the daemon's document. */
  static async join(socketPath: string, notebookId: string): Promise<DocumentPeer> {
    const connection = await openUnixConnection({ socketPath, handshake: { channel: "notebook_sync", notebook_id: notebookId, protocol: PROTOCOL_VERSION } });
    const peer = new DocumentPeer(connection);
    connection.start();
    peer.flush();
    await waitFor(`the raw peer to receive notebook ${notebookId}`, () => Automerge.hasHeads(peer.doc, connection.initialHeads), 10_000);
    return peer;
  }

  get document(): Automerge.Doc<NotebookDoc> {
    return this.doc;
  }

  /** Makes any change at all to this peer's copy and sends it to the daemon at once. */
  change(mutate: (draft: NotebookDoc) => void): void {
    this.doc = Automerge.change(this.doc, { message: "a raw change" }, mutate);
    this.flush();
  }

  close(): void {
    this.connection.close();
  }

  private flush(): void {
    if (!this.connection.isOpen) return;
    for (;;) {
      const [state, message] = Automerge.generateSyncMessage(this.doc, this.syncState);
      this.syncState = state;
      if (!message) return;
      this.connection.sendSync(message);
    }
  }
}
