import { Request } from "zeromq";

/** How often to ping a kernel's heartbeat channel and how many missed pongs mean it is dead. */
export interface HeartbeatOptions {
  intervalMs: number;
  maxMisses: number;
}

/** The Jupyter default: ping every second, dead after three pings without an answer. */
export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 1000, maxMisses: 3 };

const PING = Buffer.from("ping");

/**
 * Pings a kernel's heartbeat (REQ socket) and calls `onLost` once, after `maxMisses` pings in a
 * row went unanswered within `intervalMs`. ipykernel answers from its own thread, so a busy
 * kernel still answers. `stop()` closes the socket and ends the loop.
 */
export class HeartbeatMonitor {
  private readonly socket: Request;
  private stopped = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    endpoint: string,
    private readonly options: HeartbeatOptions,
    private readonly onLost: () => void,
  ) {
    // relaxed + correlate: a new ping may go out while an old one is unanswered, and a late
    // pong to an old ping is discarded instead of being taken for the new one.
    this.socket = new Request({
      linger: 0,
      relaxed: true,
      correlate: true,
      receiveTimeout: options.intervalMs,
      sendTimeout: options.intervalMs,
    });
    this.socket.connect(endpoint);
    void this.run();
  }

  /** Stops pinging and closes the socket; safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wake?.();
    this.socket.close();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.wakeTimer = setTimeout(resolve, ms);
    });
  }

  private async run(): Promise<void> {
    let misses = 0;
    while (!this.stopped) {
      const started = Date.now();
      try {
        await this.socket.send(PING);
        await this.socket.receive();
        misses = 0;
      } catch {
        if (this.stopped) return;
        misses += 1;
        if (misses >= this.options.maxMisses) {
          this.stop();
          this.onLost();
          return;
        }
      }
      const rest = this.options.intervalMs - (Date.now() - started);
      if (rest > 0 && !this.stopped) await this.sleep(rest);
    }
  }
}
