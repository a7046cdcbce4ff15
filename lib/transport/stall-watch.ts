import type { Socket } from "node:net";

/**
 * Drops a peer that stops reading. A peer must not make us buffer without bound: once more than
 * `maxBacklogBytes` wait for it, a peer that takes nothing from us for `stallMs` is dropped. One
 * that keeps reading, however slowly behind large frames, is not.
 */
export class StallWatch {
  maxBacklogBytes = Infinity;
  stallMs = 5000;
  private timer: NodeJS.Timeout | undefined;

  /** `waiting` is what is queued for the peer now (a socket's, or a WebSocket's, buffer). */
  constructor(
    private readonly socket: Socket,
    private readonly waiting: () => number,
    private readonly stalled: (waitingBytes: number) => void,
  ) {}

  /** Call after each write. */
  check(): void {
    if (this.timer || this.waiting() <= this.maxBacklogBytes) return;
    // bytesWritten counts what is still queued too: what the peer took is the difference.
    const delivered = () => this.socket.bytesWritten - this.socket.writableLength;
    let deliveredBefore = delivered();
    const check = () => {
      this.timer = undefined;
      if (this.socket.destroyed || this.waiting() <= this.maxBacklogBytes) return;
      if (delivered() > deliveredBefore) {
        deliveredBefore = delivered();
        this.arm(check);
        return;
      }
      this.stalled(this.waiting());
    };
    this.arm(check);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(check: () => void): void {
    this.timer = setTimeout(check, this.stallMs);
    this.timer.unref();
  }
}
