/**
 * The stream-append frame (type 0x04): what one stream output of a running cell gained since the
 * last one, with the text outside msgpack so a megabyte of output costs a megabyte on the wire.
 *
 * Payload: a 4-byte big-endian header length, the msgpack header, the UTF-8 bytes of `appended`
 * (`appended_bytes` of them), then the UTF-8 bytes of `tail`. A stream's text is its finished
 * lines (append-only) followed by its unfinished tail (rewritten by `\r`, `\b`, ...): after the
 * frame, the finished lines are their first `offset` bytes plus `appended`, and the tail is
 * `tail`. `offset` 0 restates the whole stream (a client joining mid-cell gets that first).
 */
import { decodeMessage, encodeMessage } from "./codec";
import { RuntimedError } from "./errors";

/** One stream-append frame, decoded. Byte counts are of UTF-8. */
export interface StreamAppend {
  execution_id: string;
  cell_id: string;
  /** Index of the output in the cell's output list. */
  index: number;
  name: "stdout" | "stderr";
  /** Bytes of finished text the receiver must already hold; it keeps those and drops the rest. */
  offset: number;
  /** Finished text added after `offset`. */
  appended: string;
  /** The unfinished tail, replacing the previous one. */
  tail: string;
}

interface Header {
  execution_id: string;
  cell_id: string;
  index: number;
  name: "stdout" | "stderr";
  offset: number;
  appended_bytes: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8");

/** Encodes a stream-append payload (without the frame's type byte). `appended` may be given as bytes. */
export function encodeStreamAppend(frame: Omit<StreamAppend, "appended"> & { appended: string | Uint8Array }): Uint8Array {
  const appended = typeof frame.appended === "string" ? utf8Encoder.encode(frame.appended) : frame.appended;
  const tail = utf8Encoder.encode(frame.tail);
  const header: Header = {
    execution_id: frame.execution_id,
    cell_id: frame.cell_id,
    index: frame.index,
    name: frame.name,
    offset: frame.offset,
    appended_bytes: appended.byteLength,
  };
  const headerBytes = encodeMessage(header);
  const payload = new Uint8Array(4 + headerBytes.byteLength + appended.byteLength + tail.byteLength);
  new DataView(payload.buffer).setUint32(0, headerBytes.byteLength);
  payload.set(headerBytes, 4);
  payload.set(appended, 4 + headerBytes.byteLength);
  payload.set(tail, 4 + headerBytes.byteLength + appended.byteLength);
  return payload;
}

/** Decodes a stream-append payload (with the byte length of `appended`); PROTOCOL on anything malformed. */
export function decodeStreamAppend(payload: Uint8Array): StreamAppend & { appended_bytes: number } {
  const malformed = (why: string) => new RuntimedError("PROTOCOL", `Malformed stream-append frame: ${why}`);
  if (payload.byteLength < 4) throw malformed("shorter than its header length");
  const headerLength = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
  if (4 + headerLength > payload.byteLength) throw malformed("header runs past the frame");
  const header = decodeMessage(payload.subarray(4, 4 + headerLength)) as Partial<Header> | null;
  const bodyStart = 4 + headerLength;
  if (
    typeof header !== "object" ||
    header === null ||
    typeof header.execution_id !== "string" ||
    typeof header.cell_id !== "string" ||
    !isCount(header.index) ||
    (header.name !== "stdout" && header.name !== "stderr") ||
    !isCount(header.offset) ||
    !isCount(header.appended_bytes) ||
    bodyStart + header.appended_bytes > payload.byteLength
  ) {
    throw malformed("bad header");
  }
  const appendedEnd = bodyStart + header.appended_bytes;
  return {
    execution_id: header.execution_id,
    cell_id: header.cell_id,
    index: header.index,
    name: header.name,
    offset: header.offset,
    appended: utf8Decoder.decode(payload.subarray(bodyStart, appendedEnd)),
    appended_bytes: header.appended_bytes,
    tail: utf8Decoder.decode(payload.subarray(appendedEnd)),
  };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
