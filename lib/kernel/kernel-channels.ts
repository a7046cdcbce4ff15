import { createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import { Dealer, Subscriber } from "zeromq";
import { endpoint, type ConnectionInfo } from "./connection-file";
import { FrameWriter } from "./frame-writer";
import { deserialize, serialize, type JupyterMessage } from "./wire";

/** How long a read loop may run before it lets the event loop turn. */
const YIELD_AFTER_MS = 10;

/** The channels a client writes to. */
export type WritableChannel = "shell" | "control" | "stdin";

/** Where received messages go: replies (shell and control), stdin requests, iopub. */
export interface ChannelHandlers {
  reply(message: JupyterMessage): void;
  stdin(message: JupyterMessage): void;
  iopub(message: JupyterMessage): void;
}

/**
 * The ZeroMQ side of one kernel connection: DEALER sockets for shell, control and stdin, a SUB
 * socket for iopub, all signing and checking with the connection's key. Messages that fail
 * the signature check or do not parse are dropped.
 */
export class KernelChannels {
  /** The session id of every message sent, also the sockets' routing id. */
  readonly session = randomUUID();
  private readonly key: KeyObject;
  private readonly sockets: { shell: Dealer; control: Dealer; stdin: Dealer; iopub: Subscriber };
  private readonly writers: Record<WritableChannel, FrameWriter>;
  private closed = false;
  private readonly handshakes: Promise<void>;

  constructor(info: ConnectionInfo, handlers: ChannelHandlers) {
    // One prepared key object instead of re-deriving the key for every HMAC.
    this.key = createSecretKey(Buffer.from(info.key, "utf8"));
    // shell and stdin must share a routing id: ipykernel routes input_request by the shell id.
    const dealerOptions = { routingId: this.session, linger: 0 };
    this.sockets = {
      shell: new Dealer(dealerOptions),
      control: new Dealer(dealerOptions),
      stdin: new Dealer(dealerOptions),
      // Unbounded: a SUB socket silently drops iopub messages beyond its high water mark.
      iopub: new Subscriber({ linger: 0, receiveHighWaterMark: 0 }),
    };
    // A ROUTER drops messages for a peer whose handshake has not completed: input_request
    // sent to a stdin socket still reconnecting would be lost without a trace.
    // (The events' async iterator, not `events.on()`: zeromq's emitter mode captures the
    // `require` of whichever module loaded it first, which breaks under jest's registries.)
    const handshaken = async (socket: Dealer): Promise<void> => {
      try {
        for await (const event of socket.events) if (event.type === "handshake") return;
      } catch {
        // The socket closed before its handshake: the kernel's exit is reported elsewhere.
      }
    };
    this.handshakes = Promise.all([this.sockets.shell, this.sockets.control, this.sockets.stdin].map(handshaken)).then(() => undefined);
    this.sockets.shell.connect(endpoint(info, "shell_port"));
    this.sockets.control.connect(endpoint(info, "control_port"));
    this.sockets.stdin.connect(endpoint(info, "stdin_port"));
    this.sockets.iopub.connect(endpoint(info, "iopub_port"));
    this.sockets.iopub.subscribe();
    this.writers = {
      shell: new FrameWriter(this.sockets.shell),
      control: new FrameWriter(this.sockets.control),
      stdin: new FrameWriter(this.sockets.stdin),
    };
    void this.read(this.sockets.shell, handlers.reply);
    void this.read(this.sockets.control, handlers.reply);
    void this.read(this.sockets.stdin, handlers.stdin);
    void this.read(this.sockets.iopub, handlers.iopub);
  }

  /** Resolves once shell, control and stdin have completed their ZMTP handshakes. */
  whenHandshaken(): Promise<void> {
    return this.handshakes;
  }

  /** Signs and queues `message` on `channel`; does nothing once closed. */
  send(channel: WritableChannel, message: JupyterMessage): void {
    if (!this.closed) this.writers[channel].write(serialize(message, this.key));
  }

  /** Closes every socket; the read loops end. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const socket of Object.values(this.sockets)) socket.close();
  }

  private async read(socket: Dealer | Subscriber, handle: (message: JupyterMessage) => void): Promise<void> {
    let busySince = performance.now();
    try {
      for await (const frames of socket) {
        let message: JupyterMessage;
        try {
          message = deserialize(frames, this.key);
        } catch {
          continue; // Unsigned, forged or malformed: drop it, as Jupyter clients do.
        }
        handle(message);
        // While a kernel floods us, each receive resolves at once and the loop would run on in
        // microtasks, starving timers and every other socket (other rooms, clients): yield.
        if (performance.now() - busySince > YIELD_AFTER_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          busySince = performance.now();
        }
      }
    } catch {
      // The socket failed underneath us; the kernel's death or shutdown cleans up.
    }
  }
}
