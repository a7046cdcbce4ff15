import type { Dealer } from "zeromq";

/**
 * Sends multipart messages on one ZeroMQ socket in order. zeromq allows only one pending
 * `send` per socket (a second one fails with EBUSY), so sends made while one is blocked wait
 * in a queue here; in the usual case the send completes at once and nothing is queued.
 */
export class FrameWriter {
  private readonly queue: Buffer[][] = [];
  private sending = false;

  constructor(
    private readonly socket: Pick<Dealer, "send" | "closed">,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Queues `frames` for sending; failures go to `onError`, never to the caller. */
  write(frames: Buffer[]): void {
    if (this.sending) {
      this.queue.push(frames);
      return;
    }
    this.sending = true;
    void this.drain(frames);
  }

  private async drain(first: Buffer[]): Promise<void> {
    let next: Buffer[] | undefined = first;
    while (next !== undefined) {
      if (this.socket.closed) {
        this.queue.length = 0;
        break;
      }
      try {
        await this.socket.send(next);
      } catch (error) {
        if (!this.socket.closed) this.onError(error);
      }
      next = this.queue.shift();
    }
    this.sending = false;
  }
}
