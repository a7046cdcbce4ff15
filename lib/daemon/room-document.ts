import * as Automerge from "@automerge/automerge";
import { type NotebookDoc } from "../notebook/schema";
import { nothingToSend, peerHasAll, sameHeads } from "../notebook/sync-state";
import { NotebookValidator } from "../notebook/validate";
import { RuntimedError } from "../protocol/errors";

/** One client's end of the Automerge sync protocol. */
export interface SyncPeer {
  readonly peerId: number;
  sendSync(message: Uint8Array): void;
}

/**
 * The acknowledgement of a peer's changes (it only tells the peer our heads, which it has) waits
 * until its changes have stopped coming for this long...
 */
const ACK_QUIET_MS = 50;
/** ...or this long at most: a burst of edits is acknowledged once, and no acknowledgement delays the fan-out to others. */
const ACK_MAX_WAIT_MS = 500;

interface HeadsWaiter {
  heads: string[];
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A room's copy of the notebook and its sync with every peer (one sync state per peer).
 * Changes from a peer or from the daemon itself reach every other peer at once.
 */
export class RoomDocument {
  private syncStates = new Map<SyncPeer, Automerge.SyncState>();
  private waiters: HeadsWaiter[] = [];
  private changeListeners: (() => void)[] = [];
  private syncScheduled: NodeJS.Immediate | undefined;
  private readonly acksScheduled = new Map<SyncPeer, { timer: NodeJS.Timeout; by: number }>();
  private ownChanges = 0;
  private readonly validator = new NotebookValidator();

  constructor(
    private current: Automerge.Doc<NotebookDoc>,
    private readonly hooks: { refused?(peer: SyncPeer, problem: string): void } = {},
  ) {}

  get doc(): Automerge.Doc<NotebookDoc> {
    return this.current;
  }

  get heads(): string[] {
    return Automerge.getHeads(this.current);
  }

  /**
   * How many changes the daemon itself has made. Outputs and execution counts are written only
   * by the daemon, so a writer that sees this unchanged knows nobody rewrote them meanwhile.
   */
  get ownChangeCount(): number {
    return this.ownChanges;
  }

  /** Called after every change to the document, local or remote. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  addPeer(peer: SyncPeer): void {
    this.syncStates.set(peer, Automerge.initSyncState());
    this.syncPeer(peer);
  }

  removePeer(peer: SyncPeer): void {
    this.syncStates.delete(peer);
    clearTimeout(this.acksScheduled.get(peer)?.timer);
    this.acksScheduled.delete(peer);
  }

  /**
   * Applies a sync message from a peer. Throws PROTOCOL on a message Automerge rejects, and on
   * changes that would break the notebook schema (a deleted `cells` list, a cell without an id,
   * a number where text belongs, ...): those are not taken, so no other client ever sees them.
   */
  receiveSync(peer: SyncPeer, message: Uint8Array): void {
    const state = this.syncStates.get(peer);
    if (!state) return;
    const before = this.current;
    const beforeHeads = Automerge.getHeads(before);
    let next: Automerge.Doc<NotebookDoc>;
    let nextState: Automerge.SyncState;
    try {
      [next, nextState] = Automerge.receiveSyncMessage(this.current, state, message);
    } catch (error) {
      if (!sameHeads(Automerge.getHeads(before), beforeHeads)) this.rollBack(before, beforeHeads);
      throw new RuntimedError("PROTOCOL", `Rejected Automerge sync message: ${(error as Error).message}`);
    }
    const changed = !sameHeads(beforeHeads, Automerge.getHeads(next));
    if (changed) {
      // Only what changed is checked: the cells of this change, new output lists, the ids.
      const problem = this.validator.problem(next);
      if (problem !== undefined) {
        this.rollBack(before, beforeHeads);
        this.hooks.refused?.(peer, problem);
        throw new RuntimedError("PROTOCOL", `Refused a change that breaks the notebook: ${problem}`);
      }
    }
    this.current = next;
    this.syncStates.set(peer, nextState);
    if (changed) {
      this.changed();
    } else {
      this.syncPeer(peer);
    }
  }

  /**
   * Goes back to the document as it was at `heads`. Automerge applies a sync message to the
   * document's memory in place (the old `Doc` object only still reads as before, and is marked
   * outdated), so refusing a change means continuing from a copy made at the old heads: else the
   * next change fails as "outdated", and the refused changes go out to peers and to disk. The
   * copy gets a fresh actor, so no change of ours can reuse a sequence number a refused one
   * (with our actor forged into it) took.
   */
  private rollBack(before: Automerge.Doc<NotebookDoc>, heads: string[]): void {
    this.current = Automerge.clone(Automerge.view(before, heads));
  }

  /** Makes a daemon-side change (outputs, execution counts) and syncs it out. */
  change(description: string, mutate: (draft: NotebookDoc) => void): void {
    const before = Automerge.getHeads(this.current);
    this.current = Automerge.change(this.current, { message: description }, mutate);
    if (!sameHeads(before, Automerge.getHeads(this.current))) {
      this.ownChanges += 1;
      this.changed();
    }
  }

  /** Resolves once the document contains `heads`, so a request sees what its client wrote. */
  awaitHeads(heads: string[], timeoutMs = 10_000): Promise<void> {
    if (this.hasHeads(heads)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: HeadsWaiter = {
        heads,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new RuntimedError(
              "TIMEOUT",
              `The daemon did not receive the client's changes (heads ${heads.map((h) => h.slice(0, 8)).join(",")}) within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Rejects every pending heads waiter (room closing). */
  dispose(): void {
    if (this.syncScheduled) clearImmediate(this.syncScheduled);
    this.syncScheduled = undefined;
    for (const { timer } of this.acksScheduled.values()) clearTimeout(timer);
    this.acksScheduled.clear();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new RuntimedError("CLOSED", "The room closed"));
    }
    this.waiters = [];
    this.syncStates.clear();
  }

  private hasHeads(heads: string[]): boolean {
    try {
      return Automerge.hasHeads(this.current, heads);
    } catch {
      return false;
    }
  }

  /** Sends every peer what it lacks now, instead of on the next tick. */
  flushSync(): void {
    if (this.syncScheduled) clearImmediate(this.syncScheduled);
    this.syncScheduled = undefined;
    const heads = Automerge.getHeads(this.current);
    for (const peer of this.syncStates.keys()) this.syncPeer(peer, heads);
  }

  /**
   * The sync round after a change: every peer gets what it lacks; one that lacks nothing (the
   * author of the change) is acknowledged a moment later. Peers in the same sync state (readers
   * that saw the same changes) get the same message from one `generateSyncMessage` call.
   */
  private syncRound(): void {
    this.syncScheduled = undefined;
    const heads = Automerge.getHeads(this.current);
    const generated = new Map<string, [Automerge.SyncState, Uint8Array | null]>();
    for (const [peer, state] of this.syncStates) {
      if (nothingToSend(state, heads)) continue;
      if (peerHasAll(state, heads)) {
        this.scheduleAck(peer);
        continue;
      }
      const key = syncStateKey(state);
      let result = generated.get(key);
      if (!result) {
        result = Automerge.generateSyncMessage(this.current, state);
        generated.set(key, result);
      }
      // One message at most: after it the state is in flight, with nothing more to send.
      const [next, message] = result;
      this.syncStates.set(peer, next);
      if (message) peer.sendSync(message);
    }
  }

  private scheduleAck(peer: SyncPeer): void {
    const now = Date.now();
    const scheduled = this.acksScheduled.get(peer);
    if (scheduled) clearTimeout(scheduled.timer);
    const by = scheduled?.by ?? now + ACK_MAX_WAIT_MS;
    const timer = setTimeout(() => {
      this.acksScheduled.delete(peer);
      this.syncPeer(peer);
    }, Math.max(0, Math.min(ACK_QUIET_MS, by - now)));
    timer.unref();
    this.acksScheduled.set(peer, { timer, by });
  }

  private changed(): void {
    // Several changes in one tick (a burst of edits, outputs of many cells) share one sync round.
    this.syncScheduled ??= setImmediate(() => this.syncRound());
    if (this.waiters.length > 0) {
      const waiting = this.waiters;
      this.waiters = [];
      for (const waiter of waiting) {
        if (this.hasHeads(waiter.heads)) {
          clearTimeout(waiter.timer);
          waiter.resolve();
        } else {
          this.waiters.push(waiter);
        }
      }
    }
    for (const listener of this.changeListeners) listener();
  }

  private syncPeer(peer: SyncPeer, heads: readonly string[] = Automerge.getHeads(this.current)): void {
    const initial = this.syncStates.get(peer);
    if (!initial) return;
    let state: Automerge.SyncState = initial;
    for (;;) {
      // (Also ends the loop after a message, without a second call that would say nothing.)
      if (nothingToSend(state, heads)) break;
      const [nextState, message]: [Automerge.SyncState, Uint8Array | null] = Automerge.generateSyncMessage(this.current, state);
      state = nextState;
      if (!message) break;
      peer.sendSync(message);
    }
    this.syncStates.set(peer, state);
  }
}

/**
 * A string equal for two sync states exactly when Automerge reads them the same: the result of
 * `generateSyncMessage` depends on the document and the state only. Every field counts (byte
 * arrays, the bloom filters, as hex); states equal in content but built in another order merely
 * miss.
 */
function syncStateKey(state: Automerge.SyncState): string {
  return JSON.stringify(state, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") : value));
}
