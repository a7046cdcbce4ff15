/**
 * Jupyter messages on a Jupyter Server channels WebSocket, in both of its encodings: the
 * `v1.kernel.websocket.jupyter.org` binary framing (jupyter_server's serialize_msg_to_ws_v1 /
 * deserialize_msg_from_ws_v1), and the legacy one — a JSON text frame carrying `channel`, or,
 * for a message with buffers, a binary frame of big-endian offsets, that JSON and the buffers.
 */
import { WireError, checkHeader, type JupyterHeader, type JupyterMessage } from "../kernel/wire";

/** The subprotocol name of the v1 binary framing. */
export const V1_SUBPROTOCOL = "v1.kernel.websocket.jupyter.org";

/** A message and the kernel channel it travels on. */
export interface ChannelMessage {
  channel: string;
  message: JupyterMessage;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objectField(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new WireError(`Jupyter message ${what} is not a JSON object`);
  return value;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new WireError(`Jupyter message ${what} is not JSON`);
  }
}

/** Builds a message from its four parsed parts and its buffers, checking their shapes. */
function assemble(header: unknown, parent: unknown, metadata: unknown, content: unknown, buffers: Buffer[]): JupyterMessage {
  return {
    identities: [],
    header: checkHeader(objectField(header, "header")),
    // A message the server makes up (a status after a restart) may carry no parent at all.
    parent_header: (isRecord(parent) ? parent : {}) as Partial<JupyterHeader>,
    metadata: isRecord(metadata) ? metadata : {},
    content: objectField(content, "content"),
    buffers,
  };
}

/**
 * Encodes a message in the v1 framing: a little-endian uint64 count of offsets, the offsets
 * (channel start, then the start of each part, then the end), the channel name, then header,
 * parent header, metadata and content as JSON, then the buffers.
 */
export function encodeV1(channel: string, message: JupyterMessage): Buffer {
  const parts = [
    Buffer.from(JSON.stringify(message.header)),
    Buffer.from(JSON.stringify(message.parent_header)),
    Buffer.from(JSON.stringify(message.metadata)),
    Buffer.from(JSON.stringify(message.content)),
    ...message.buffers,
  ];
  const channelBytes = Buffer.from(channel, "utf8");
  const offsetCount = parts.length + 2;
  const table = Buffer.alloc(8 * (offsetCount + 1));
  table.writeBigUInt64LE(BigInt(offsetCount), 0);
  let offset = table.length;
  table.writeBigUInt64LE(BigInt(offset), 8);
  offset += channelBytes.length;
  table.writeBigUInt64LE(BigInt(offset), 16);
  parts.forEach((part, index) => {
    offset += part.length;
    table.writeBigUInt64LE(BigInt(offset), 8 * (index + 3));
  });
  return Buffer.concat([table, channelBytes, ...parts]);
}

/** Decodes a v1 frame; throws `WireError` when it is malformed. */
export function decodeV1(frame: Buffer): ChannelMessage {
  if (frame.length < 8) throw new WireError("v1 frame shorter than its offset count");
  const count = Number(frame.readBigUInt64LE(0));
  // Channel, header, parent header, metadata and content: at least six offsets.
  if (count < 6 || 8 * (count + 1) > frame.length) throw new WireError(`v1 frame has an impossible offset count ${count}`);
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const offset = Number(frame.readBigUInt64LE(8 * (i + 1)));
    if (offset > frame.length || (i > 0 && offset < offsets[i - 1]!) || offset < 8 * (count + 1)) {
      throw new WireError("v1 frame offsets are out of order or out of range");
    }
    offsets.push(offset);
  }
  const slice = (i: number) => frame.subarray(offsets[i], offsets[i + 1]);
  const channel = slice(0).toString("utf8");
  const parts: Buffer[] = [];
  for (let i = 1; i < count - 1; i++) parts.push(slice(i));
  const [header, parent, metadata, content, ...buffers] = parts;
  return {
    channel,
    message: assemble(
      parseJson(header!, "header"),
      parseJson(parent!, "parent_header"),
      parseJson(metadata!, "metadata"),
      parseJson(content!, "content"),
      buffers.map((buffer) => Buffer.from(buffer)),
    ),
  };
}

/** Encodes a message in the legacy encoding: JSON text, or the binary form when it has buffers. */
export function encodeLegacy(channel: string, message: JupyterMessage): string | Buffer {
  const json = JSON.stringify({
    header: message.header,
    parent_header: message.parent_header,
    metadata: message.metadata,
    content: message.content,
    channel,
    ...(message.buffers.length > 0 ? { buffers: [] } : {}),
  });
  if (message.buffers.length === 0) return json;
  const pieces = [Buffer.from(json, "utf8"), ...message.buffers];
  const table = Buffer.alloc(4 * (pieces.length + 1));
  table.writeUInt32BE(pieces.length, 0);
  let offset = table.length;
  pieces.forEach((piece, index) => {
    table.writeUInt32BE(offset, 4 * (index + 1));
    offset += piece.length;
  });
  return Buffer.concat([table, ...pieces]);
}

/** Decodes a legacy frame (text JSON, or binary with buffers); throws `WireError` when malformed. */
export function decodeLegacy(frame: string | Buffer, binary: boolean): ChannelMessage {
  let json: unknown;
  let buffers: Buffer[] = [];
  if (binary && Buffer.isBuffer(frame)) {
    if (frame.length < 4) throw new WireError("binary frame shorter than its buffer count");
    const count = frame.readUInt32BE(0);
    if (count < 1 || 4 * (count + 1) > frame.length) throw new WireError(`binary frame has an impossible buffer count ${count}`);
    const offsets: number[] = [];
    for (let i = 0; i < count; i++) {
      const offset = frame.readUInt32BE(4 * (i + 1));
      if (offset > frame.length || (i > 0 && offset < offsets[i - 1]!)) throw new WireError("binary frame offsets are out of order or out of range");
      offsets.push(offset);
    }
    offsets.push(frame.length);
    const pieces = offsets.slice(0, -1).map((start, i) => frame.subarray(start, offsets[i + 1]));
    json = parseJson(pieces[0]!, "body");
    buffers = pieces.slice(1).map((piece) => Buffer.from(piece));
  } else {
    json = parseJson(Buffer.isBuffer(frame) ? frame : Buffer.from(frame, "utf8"), "body");
  }
  const body = objectField(json, "body");
  if (typeof body.channel !== "string") throw new WireError("Jupyter message on the WebSocket names no channel");
  return { channel: body.channel, message: assemble(body.header, body.parent_header, body.metadata, body.content, buffers) };
}
