import * as Automerge from "@automerge/automerge";
import { Subject, type Observable } from "rxjs";
import { createNotebookDoc, type NotebookDoc } from "../notebook/schema";
import { nothingToSend, sameHeads } from "../notebook/sync-state";
import type { DocumentPatch } from "./types";

/** The answer to daemon changes waits until they have stopped coming for this long... */
const ACK_QUIET_MS = 50;
/** ...or this long at most (it is not on anyone's path: it only tells the daemon what we have). */
const ACK_MAX_WAIT_MS = 500;

/**
 * A client's copy of the notebook document and its half of the Automerge sync protocol.
 * Local changes apply at once (local-first) and are offered to the daemon immediately.
 */
export class DocumentReplica {
  private current: Automerge.Doc<NotebookDoc> = createNotebookDoc();
  private syncState = Automerge.initSyncState();
  private send: ((message: Uint8Array) => void) | undefined;
  private readonly patchesSubject = new Subject<DocumentPatch>();
  private headsWaiters: { heads: string[]; resolve: () => void }[] = [];
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private ackBy = 0;
  private answerQueued = false;
  private remoteChangeListener: (() => void) | undefined;

  /** Every change, with its patches and whether it was made here or came from elsewhere. */
  readonly patches$: Observable<DocumentPatch> = this.patchesSubject.asObservable();

  get doc(): Automerge.Doc<NotebookDoc> {
    return this.current;
  }

  get heads(): string[] {
    return Automerge.getHeads(this.current);
  }

  /** Starts syncing over a new connection (after connect or reconnect). */
  attach(send: (message: Uint8Array) => void): void {
    this.send = send;
    this.syncState = Automerge.initSyncState();
    this.flushSync();
  }

  /** Stops syncing; local changes keep applying and are sent after the next attach. */
  detach(): void {
    this.send = undefined;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  /** Makes a local change. */
  change(description: string, mutate: (draft: NotebookDoc) => void): void {
    let patches: Automerge.Patch[] = [];
    // Patches cost time to make: only when someone listens for them.
    const options = this.patchesSubject.observed ? { message: description, patchCallback: (p: Automerge.Patch[]) => void (patches = p) } : { message: description };
    this.current = Automerge.change(this.current, options, mutate);
    if (patches.length > 0) this.patchesSubject.next({ origin: "local", patches });
    this.flushSync();
  }

  /** Called after each sync message that changed the document (whether or not anyone wants patches). */
  onRemoteChange(listener: () => void): void {
    this.remoteChangeListener = listener;
  }

  /** Applies a sync message from the daemon. */
  receive(message: Uint8Array): void {
    let patches: Automerge.Patch[] = [];
    const headsBefore = Automerge.getHeads(this.current);
    const options = this.patchesSubject.observed ? { patchCallback: (p: Automerge.Patch[]) => void (patches = patches.concat(p)) } : {};
    [this.current, this.syncState] = Automerge.receiveSyncMessage(this.current, this.syncState, message, options);
    // (receiveSyncMessage returns a new document object even when nothing changed.)
    const changed = !sameHeads(headsBefore, Automerge.getHeads(this.current));
    if (changed) this.remoteChangeListener?.();
    if (patches.length > 0) this.patchesSubject.next({ origin: "remote", patches });
    this.scheduleAck(changed);
    this.checkWaiters();
  }

  /**
   * Answers the daemon. Messages that arrive together are answered together; the answer to
   * changes waits until they stop coming (a moment, half a second at most), so that it never
   * delays the daemon's next work (a result, the next request) and a burst of edits from another
   * client is acknowledged once, not edit by edit.
   */
  private scheduleAck(brought: boolean): void {
    if (!brought) {
      if (this.answerQueued) return;
      this.answerQueued = true;
      queueMicrotask(() => {
        this.answerQueued = false;
        this.answer();
      });
      return;
    }
    const now = Date.now();
    if (this.ackTimer === undefined) this.ackBy = now + ACK_MAX_WAIT_MS;
    else clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => this.answer(), Math.max(0, Math.min(ACK_QUIET_MS, this.ackBy - now)));
  }

  private answer(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.flushSync();
  }

  /** Resolves once this replica contains `heads` (e.g. the daemon's heads at connect). */
  whenHasHeads(heads: string[]): Promise<void> {
    if (this.hasHeads(heads)) return Promise.resolve();
    return new Promise((resolve) => this.headsWaiters.push({ heads, resolve }));
  }

  complete(): void {
    this.detach();
    this.patchesSubject.complete();
  }

  private hasHeads(heads: string[]): boolean {
    try {
      return Automerge.hasHeads(this.current, heads);
    } catch {
      return false;
    }
  }

  private checkWaiters(): void {
    if (this.headsWaiters.length === 0) return;
    const waiting = this.headsWaiters;
    this.headsWaiters = [];
    for (const waiter of waiting) {
      if (this.hasHeads(waiter.heads)) waiter.resolve();
      else this.headsWaiters.push(waiter);
    }
  }

  private flushSync(): void {
    if (!this.send) return;
    const heads = Automerge.getHeads(this.current);
    for (;;) {
      // (Also ends the loop after a message, without a second call that would say nothing.)
      if (nothingToSend(this.syncState, heads)) return;
      const [state, message]: [Automerge.SyncState, Uint8Array | null] = Automerge.generateSyncMessage(this.current, this.syncState);
      this.syncState = state;
      if (!message) return;
      this.send(message);
    }
  }
}
