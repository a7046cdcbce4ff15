import { FrameType } from "../protocol/messages";
import type { FrameLink } from "./client-connection";

/**
 * A stream output as a peer that fell behind reads it: from the daemon's store, not from copies
 * queued for it, so a slow client costs the daemon no memory however much the kernel prints.
 */
export interface StreamSource {
  /** `<execution id>:<output index>`. */
  readonly key: string;
  /** Finished bytes sent live so far, and the tail that went with them. */
  readonly sentBytes: number;
  readonly sentTail: string | undefined;
  /** False once the output is gone (cleared, or its cell deleted). */
  readonly alive: boolean;
  /** Bytes [from, to) of the finished text. */
  read(from: number, to: number): Uint8Array;
  /** A stream-append payload for a piece of this stream. */
  encode(offset: number, appended: Uint8Array, tail: string): Uint8Array;
}

type Item = { kind: "frame"; type: FrameType; payload: Uint8Array; key: string | undefined } | { kind: "stream"; source: StreamSource; from: number };

/** Bytes a peer may have unread before the outbox holds frames back (and what it reads per catch-up step). */
export const PEER_BACKLOG_BYTES = 4 * 1024 * 1024;
const CATCH_UP_BYTES = 1024 * 1024;

/**
 * What the daemon sends one peer, in order, with flow control. While the peer keeps up, frames
 * go straight to its connection (shared with every other peer). Once it has more than
 * `PEER_BACKLOG_BYTES` unread, frames wait here instead: an output that changes again replaces
 * its waiting version, and a stream is not queued at all — the peer later reads it from the
 * store, from where it fell behind. The connection's own stall check drops a peer that stops
 * reading altogether.
 */
export class PeerOutbox {
  private queue: Item[] = [];
  /** Streams this peer is behind on: their live frames are skipped, a catch-up item covers them. */
  private readonly behind = new Set<string>();
  private closed = false;

  constructor(
    private readonly link: FrameLink,
    private readonly limit = PEER_BACKLOG_BYTES,
  ) {
    link.onDrain(() => this.pump());
  }

  /** Sends a frame; `key` lets a newer frame with the same key replace one still waiting. */
  send(type: FrameType, payload: Uint8Array, key?: string): void {
    if (this.closed) return;
    if (this.flowing()) return this.link.sendTyped(type, payload);
    if (key !== undefined) {
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const item = this.queue[i]!;
        if (item.kind !== "frame") continue;
        if (item.key === key) {
          item.payload = payload;
          return;
        }
        // Frames without a key keep their place in the order: nothing moves past them.
        if (item.key === undefined) break;
      }
    }
    this.queue.push({ kind: "frame", type, payload, key });
  }

  /** Sends a live piece of a stream (starting at `offset`), unless this peer must catch up on it first. */
  sendStream(source: StreamSource, offset: number, payload: Uint8Array): void {
    if (this.closed || this.behind.has(source.key)) return;
    if (this.flowing()) return this.link.sendTyped(FrameType.StreamAppend, payload);
    this.catchUp(source, offset);
  }

  /** Sends a stream from its start (a peer that joined while it grows). */
  restate(source: StreamSource): void {
    if (this.closed) return;
    this.queue = this.queue.filter((item) => item.kind !== "stream" || item.source.key !== source.key);
    this.catchUp(source, 0);
    this.pump();
  }

  /** Drops what waits; nothing more is sent. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.behind.clear();
  }

  private flowing(): boolean {
    return this.queue.length === 0 && this.link.backlog < this.limit;
  }

  private catchUp(source: StreamSource, from: number): void {
    this.behind.add(source.key);
    this.queue.push({ kind: "stream", source, from });
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.link.backlog < this.limit) {
      const item = this.queue[0]!;
      if (item.kind === "frame") {
        this.queue.shift();
        this.link.sendTyped(item.type, item.payload);
        continue;
      }
      const { source } = item;
      if (!source.alive) {
        this.queue.shift();
        this.behind.delete(source.key);
        continue;
      }
      const target = source.sentBytes;
      let bytes = source.read(item.from, Math.min(target, item.from + CATCH_UP_BYTES));
      if (item.from + bytes.byteLength < target) bytes = bytes.subarray(0, utf8Boundary(bytes));
      const last = item.from + bytes.byteLength >= target;
      this.link.sendTyped(FrameType.StreamAppend, source.encode(item.from, bytes, last ? (source.sentTail ?? "") : ""));
      if (last) {
        this.queue.shift();
        this.behind.delete(source.key);
      } else {
        item.from += bytes.byteLength;
      }
    }
  }
}

/** The length of `bytes` without a UTF-8 character cut at its end. */
function utf8Boundary(bytes: Uint8Array): number {
  let end = bytes.byteLength;
  let back = 0;
  // Walk back over continuation bytes to the lead byte of the last character.
  while (back < 4 && end - back - 1 >= 0 && (bytes[end - back - 1]! & 0xc0) === 0x80) back++;
  const lead = bytes[end - back - 1];
  if (lead === undefined) return end;
  const expected = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return back + 1 >= expected ? end : end - back - 1;
}
