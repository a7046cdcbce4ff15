import type { Socket } from "node:net";
import type { RawData, WebSocket } from "ws";
import { RuntimedError } from "../protocol/errors";
import { MAX_FRAME_BYTES } from "../protocol/frame";
import type { FrameType } from "../protocol/messages";
import type { ServerPipe } from "../transport/frame-pipe";
import { StallWatch } from "../transport/stall-watch";

/** Payloads from this size on go out as two fragments of one message instead of being copied. */
const FRAGMENT_FROM_BYTES = 64 * 1024;

/**
 * The daemon's end of a WebSocket client (after the network face checked its token and origin):
 * the same frames as the Unix socket, one binary message per frame, the same limits and errors.
 * A text message, or a message over the current frame limit, closes this connection only.
 */
export class WebSocketLink implements ServerPipe {
  maxFrameBytes: number;
  onFrame: (frame: Uint8Array) => void = () => {};
  onError: (error: RuntimedError) => void = () => {};
  onClose: () => void = () => {};
  private readonly stall: StallWatch;
  private closed = false;
  private corked = false;
  private markEnded!: () => void;
  /** Resolves once the connection is gone. */
  readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));

  constructor(
    private readonly socket: WebSocket,
    maxFrameBytes: number,
  ) {
    this.maxFrameBytes = maxFrameBytes;
    this.stall = new StallWatch(this.tcp, () => socket.bufferedAmount, (waiting) => {
      this.fail(new RuntimedError("PROTOCOL", `The peer is not reading: ${waiting} bytes are waiting for it`));
      socket.terminate();
    });
    socket.binaryType = "nodebuffer";
    socket.on("message", (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    socket.on("error", (error) => this.fail(new RuntimedError("PROTOCOL", error.message)));
    socket.on("close", () => this.finish());
  }

  get maxBacklogBytes(): number {
    return this.stall.maxBacklogBytes;
  }

  set maxBacklogBytes(bytes: number) {
    this.stall.maxBacklogBytes = bytes;
  }

  get backlog(): number {
    return this.socket.bufferedAmount;
  }

  onDrain(listener: () => void): void {
    this.tcp.on("drain", listener);
  }

  send(payload: Uint8Array): void {
    if (this.closed) return;
    this.corkForThisTurn();
    this.socket.send(payload, { binary: true });
    this.stall.check();
  }

  sendTyped(type: FrameType, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length + 1 > MAX_FRAME_BYTES) {
      throw new RuntimedError("PROTOCOL", `Frame of ${payload.length + 1} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
    }
    this.corkForThisTurn();
    if (payload.length < FRAGMENT_FROM_BYTES) {
      const frame = Buffer.allocUnsafe(payload.length + 1);
      frame[0] = type;
      frame.set(payload, 1);
      this.socket.send(frame, { binary: true });
    } else {
      this.socket.send(Buffer.of(type), { binary: true, fin: false });
      this.socket.send(payload, { binary: true, fin: true });
    }
    this.stall.check();
  }

  close(graceMs = 1000): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(1000);
    // A peer that never reads what was sent, or never answers the close, is cut off.
    setTimeout(() => this.socket.terminate(), graceMs).unref();
  }

  destroy(): void {
    this.closed = true;
    this.socket.terminate();
  }

  /** Frames sent in one turn of the event loop leave in one write, as on the Unix socket. */
  private corkForThisTurn(): void {
    if (this.corked) return;
    this.corked = true;
    const tcp = this.tcp;
    tcp.cork();
    setImmediate(() => {
      this.corked = false;
      tcp.uncork();
    });
  }

  /** The TCP connection under the WebSocket (`ws` keeps it as `_socket`): its drain and byte counts. */
  private get tcp(): Socket {
    return (this.socket as unknown as { _socket: Socket })._socket;
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (!isBinary) return this.fail(new RuntimedError("PROTOCOL", "Text messages are not frames: send each frame as one binary message"), true);
    const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (frame.length > this.maxFrameBytes) {
      return this.fail(new RuntimedError("PROTOCOL", `Frame of ${frame.length} bytes exceeds the ${this.maxFrameBytes}-byte limit`), true);
    }
    this.onFrame(frame);
  }

  private fail(error: RuntimedError, close = false): void {
    this.onError(error);
    if (close) this.close();
  }

  private finish(): void {
    this.stall.stop();
    this.closed = true;
    this.onClose();
    this.onClose = () => {};
    this.markEnded();
  }
}
