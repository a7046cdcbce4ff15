/**
 * The document writes of finished executions, made after their results: off the path from the
 * kernel's reply to the caller, once the room has had no cell running for `quietMs` — so the
 * Automerge work never competes with a kernel's messages — or after `maxWaitMs` of cells running
 * back to back. Writes that wait together are one Automerge change (and one sync to every
 * client), and only the last run of a cell that ran again meanwhile is written: a loop of short
 * cells costs one document write now and then, not one per cell. Anything that must see the
 * document as it is (a sync request, clearing outputs, saving, closing) calls `flush()` first.
 */
export class DeferredWrites {
  private readonly pending = new Map<string, () => void>();
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  private firstAt = 0;
  private lastBusyAt = 0;

  constructor(
    private readonly options: {
      /** Whether a cell runs now (the writes then wait). */
      busy: () => boolean;
      /** How long the room must have had no cell running. */
      quietMs: number;
      /** The longest a write waits for that. */
      maxWaitMs: number;
      /** Runs the written changes out (one sync round to every client). */
      flushed: () => void;
      failed: (error: unknown) => void;
    },
  ) {}

  /** Queues the write of a cell's final outputs; a later one for the same cell replaces it. */
  add(cellId: string, write: () => void): void {
    const now = Date.now();
    if (this.pending.size === 0) this.firstAt = now;
    this.lastBusyAt = now; // a cell just finished
    this.pending.delete(cellId);
    this.pending.set(cellId, write);
    if (this.timer === undefined) this.timer = setTimeout(() => this.check(), this.options.quietMs);
  }

  private check(): void {
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const now = Date.now();
    if (this.options.busy()) this.lastBusyAt = now;
    const waitLeft = this.options.maxWaitMs - (now - this.firstAt);
    const quietLeft = this.options.quietMs - (now - this.lastBusyAt);
    if (waitLeft > 0 && quietLeft > 0) {
      this.timer = setTimeout(() => this.check(), Math.min(waitLeft, quietLeft, POLL_MS));
      return;
    }
    this.flush();
  }

  /** Whether a write for the cell is waiting. */
  has(cellId: string): boolean {
    return this.pending.has(cellId);
  }

  /** Makes every queued write now. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as ReturnType<typeof setTimeout>);
      clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    }
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const writes = [...this.pending.values()];
    this.pending.clear();
    for (const write of writes) {
      try {
        write();
      } catch (error) {
        this.options.failed(error);
      }
    }
    this.options.flushed();
  }
}

/** How often waiting writes look whether the room went idle. */
const POLL_MS = 10;
