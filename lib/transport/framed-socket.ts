import type { Socket } from "node:net";
import { RuntimedError } from "../protocol/errors";
import { FrameDecoder, MAX_FRAME_BYTES } from "../protocol/frame";
import type { FrameType } from "../protocol/messages";
import type { ServerPipe } from "./frame-pipe";
import { StallWatch } from "./stall-watch";

/**
 * A stream socket speaking length-prefixed frames, used by both ends of the protocol. Frames
 * that break the framing rules close this socket only, after `onError` has seen why.
 */
export class FramedSocket implements ServerPipe {
  private readonly decoder: FrameDecoder;
  private closed = false;
  private corked = false;
  private readonly stall: StallWatch;
  onFrame: (frame: Uint8Array) => void = () => {};
  onError: (error: RuntimedError) => void = () => {};
  onClose: () => void = () => {};
  private markEnded!: () => void;
  /** Resolves once the connection is gone (both sides closed, or destroyed). */
  readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));

  constructor(
    readonly socket: Socket,
    maxFrameBytes = MAX_FRAME_BYTES,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.stall = new StallWatch(socket, () => socket.writableLength, (waiting) => {
      this.onError(new RuntimedError("PROTOCOL", `The peer is not reading: ${waiting} bytes are waiting for it`));
      this.closed = true;
      socket.destroy();
    });
    socket.setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => this.close());
    socket.on("close", () => this.finish());
  }

  /** A peer with more unsent bytes than this that does not drain within `stallMs` is dropped. */
  get maxBacklogBytes(): number {
    return this.stall.maxBacklogBytes;
  }

  set maxBacklogBytes(bytes: number) {
    this.stall.maxBacklogBytes = bytes;
  }

  set stallMs(ms: number) {
    this.stall.stallMs = ms;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes written and not yet taken by the peer. */
  get backlog(): number {
    return this.socket.writableLength;
  }

  /** Calls `listener` each time the write buffer drains. */
  onDrain(listener: () => void): void {
    this.socket.on("drain", listener);
  }

  /** The largest frame accepted from now on (the daemon raises it after the handshake). */
  get maxFrameBytes(): number {
    return this.decoder.maxFrameBytes;
  }

  set maxFrameBytes(bytes: number) {
    this.decoder.maxFrameBytes = bytes;
  }

  /** Ends the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Sends one untyped frame (the handshake and its reply). */
  send(payload: Uint8Array): void {
    if (this.closed) return;
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(payload.length, 0);
    this.write(header, payload);
  }

  /** Sends one frame that starts with a type byte. */
  sendTyped(type: FrameType, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length + 1 > MAX_FRAME_BYTES) {
      throw new RuntimedError("PROTOCOL", `Frame of ${payload.length + 1} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
    }
    const header = Buffer.allocUnsafe(5);
    header.writeUInt32BE(payload.length + 1, 0);
    header[4] = type;
    this.write(header, payload);
  }

  /**
   * Writes a header and its payload (never copied). Frames written in one turn of the event loop
   * (several kernel messages read at once, say) leave in one system call: each is a wake-up of
   * the peer, which on a small machine costs more than the bytes.
   */
  private write(header: Buffer, payload: Uint8Array): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(header);
    this.socket.write(payload);
    this.stall.check();
  }

  /**
   * Ends the connection after flushing what was written; a peer that has not read it all within
   * `graceMs` is cut off (one that never reads must not keep the socket alive forever).
   */
  close(graceMs = 1000): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), graceMs).unref();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.append(chunk);
    // One frame at a time: a handler may change the limit for the very next frame.
    for (;;) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.decoder.next();
      } catch (error) {
        this.onError(error instanceof RuntimedError ? error : new RuntimedError("PROTOCOL", String(error)));
        this.close();
        return;
      }
      if (frame === undefined || this.closed) return;
      this.onFrame(frame);
    }
  }

  private finish(): void {
    this.stall.stop();
    const wasClosed = this.closed;
    this.closed = true;
    if (!wasClosed) this.socket.destroy();
    this.onClose();
    this.onClose = () => {};
    this.markEnded();
  }
}
