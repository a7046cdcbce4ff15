import { concatBytes } from "./bytes";
import { RuntimedError } from "./errors";

/** Largest frame either side accepts (100 MiB). */
export const MAX_FRAME_BYTES = 100 * 1024 * 1024;
/** Largest handshake or client->daemon request (64 KiB). */
export const MAX_REQUEST_BYTES = 64 * 1024;

const HEADER_BYTES = 4;

/** Prefixes a payload with its 4-byte big-endian length. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_BYTES) {
    throw new RuntimedError("PROTOCOL", `Frame of ${payload.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
  }
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/**
 * Splits a byte stream into length-prefixed frames. Chunks may end anywhere; a declared length
 * over `maxFrameBytes` throws at once, before any of that frame is buffered.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  /** The largest frame accepted from now on; a daemon raises it once a client has shaken hands. */
  constructor(public maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Buffers bytes; take whole frames out with `next()`. */
  append(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next whole frame, or undefined. Throws PROTOCOL as soon as a declared length is over
   * the current limit, before any of that frame is buffered.
   */
  next(): Uint8Array | undefined {
    if (this.buffered < HEADER_BYTES) return undefined;
    const length = this.peekLength();
    if (length > this.maxFrameBytes) {
      throw new RuntimedError("PROTOCOL", `Frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
    }
    if (this.buffered < HEADER_BYTES + length) return undefined;
    return this.take(HEADER_BYTES + length).subarray(HEADER_BYTES);
  }

  /** Feeds bytes in; returns every frame they complete, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const frames: Uint8Array[] = [];
    for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private peekLength(): number {
    if (this.chunks[0]!.length < HEADER_BYTES) this.chunks = [concatBytes(this.chunks, this.buffered)];
    const first = this.chunks[0]!;
    return new DataView(first.buffer, first.byteOffset, first.byteLength).getUint32(0);
  }

  private take(count: number): Uint8Array {
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (first.length >= count) {
      out = first.subarray(0, count);
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
    } else {
      const all = concatBytes(this.chunks, this.buffered);
      out = all.subarray(0, count);
      this.chunks = all.length > count ? [all.subarray(count)] : [];
    }
    this.buffered -= count;
    return out;
  }
}

