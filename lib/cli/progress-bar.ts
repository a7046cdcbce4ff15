/** Where a progress bar draws: a stream that may be a terminal. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

const CLEAR_LINE = "\r\x1b[2K";

/**
 * A one-line progress bar, `[=====>    ] 3/7 cells`, redrawn in place on a terminal. On
 * anything that is not a terminal it draws nothing, so logs and pipes stay clean.
 */
export class ProgressBar {
  private done = 0;
  private visible = false;
  private stopped = false;
  readonly enabled: boolean;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly unit: string,
  ) {
    this.enabled = stream.isTTY === true && total > 0;
  }

  /** Sets how many are done and redraws. */
  update(done: number): void {
    this.done = Math.min(done, this.total);
    this.draw();
  }

  /** Draws the bar (again), e.g. after `clear()` made room for other output. */
  draw(): void {
    if (!this.enabled || this.stopped) return;
    this.stream.write(CLEAR_LINE + this.render());
    this.visible = true;
  }

  /** Removes the bar from the screen so other output can take its line. */
  clear(): void {
    if (!this.visible) return;
    this.stream.write(CLEAR_LINE);
    this.visible = false;
  }

  /** Removes the bar for good: later `draw()` and `update()` calls draw nothing. */
  stop(): void {
    this.clear();
    this.stopped = true;
  }

  /** The bar as text, sized to the terminal: `[=====>    ] 3/7 cells`. */
  render(): string {
    const label = ` ${this.done}/${this.total} ${this.unit}`;
    const width = Math.max(10, Math.min(40, (this.stream.columns || 80) - label.length - 3));
    const filled = Math.round((this.done / this.total) * width);
    const bar = filled >= width ? "=".repeat(width) : "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? ">" : "") + " ".repeat(width - filled);
    return `[${bar}]${label}`;
  }
}
