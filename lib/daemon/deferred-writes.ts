/**
 * The document writes of finished executions, made a moment after their results: off the path
 * from the kernel's reply to the caller, and coalesced — one Automerge change (and one sync to
 * every client) for all the cells that finished within the window, and only the last run of a
 * cell that ran again meanwhile. Anything that must see the document as it is (a sync request,
 * clearing outputs, saving, closing) calls `flush()` first.
 */
export class DeferredWrites {
  private readonly pending = new Map<string, () => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly windowMs: number,
    /** Runs the queued writes' effects out (e.g. one sync round to every client). */
    private readonly flushed: () => void,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Queues the write of a cell's final outputs; a later one for the same cell replaces it. */
  add(cellId: string, write: () => void): void {
    this.pending.delete(cellId);
    this.pending.set(cellId, write);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Whether a write for the cell is waiting. */
  has(cellId: string): boolean {
    return this.pending.has(cellId);
  }

  /** Makes every queued write now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const writes = [...this.pending.values()];
    this.pending.clear();
    for (const write of writes) {
      try {
        write();
      } catch (error) {
        this.failed(error);
      }
    }
    this.flushed();
  }
}
