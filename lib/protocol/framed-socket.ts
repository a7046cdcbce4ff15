import type { Socket } from "node:net";
import { RuntimedError } from "./errors";
import { FrameDecoder, MAX_FRAME_BYTES } from "./frame";
import type { FrameType } from "./messages";

/**
 * A stream socket speaking length-prefixed frames, used by both ends of the protocol. Frames
 * that break the framing rules close this socket only, after `onError` has seen why.
 */
export class FramedSocket {
  private readonly decoder: FrameDecoder;
  private closed = false;
  onFrame: (frame: Buffer) => void = () => {};
  onError: (error: RuntimedError) => void = () => {};
  onClose: () => void = () => {};

  constructor(
    readonly socket: Socket,
    maxFrameBytes = MAX_FRAME_BYTES,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => this.close());
    socket.on("close", () => this.finish());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one untyped frame (the handshake and its reply). */
  send(payload: Uint8Array): void {
    if (this.closed) return;
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeUInt32BE(payload.length, 0);
    frame.set(payload, 4);
    this.socket.write(frame);
  }

  /** Sends one frame that starts with a type byte. */
  sendTyped(type: FrameType, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length + 1 > MAX_FRAME_BYTES) {
      throw new RuntimedError("PROTOCOL", `Frame of ${payload.length + 1} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
    }
    const frame = Buffer.allocUnsafe(5 + payload.length);
    frame.writeUInt32BE(payload.length + 1, 0);
    frame[4] = type;
    frame.set(payload, 5);
    this.socket.write(frame);
  }

  /** Ends the connection after flushing what was written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    // A peer that never reads must not keep the socket alive forever.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.onError(error instanceof RuntimedError ? error : new RuntimedError("PROTOCOL", String(error)));
      this.close();
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      this.onFrame(frame);
    }
  }

  private finish(): void {
    const wasClosed = this.closed;
    this.closed = true;
    if (!wasClosed) this.socket.destroy();
    this.onClose();
    this.onClose = () => {};
  }
}
