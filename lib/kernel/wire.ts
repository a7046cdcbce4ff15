import { createHmac, randomUUID, timingSafeEqual, type KeyObject } from "node:crypto";

/**
 * The Jupyter messaging protocol version this module speaks.
 */
export const PROTOCOL_VERSION = "5.3";

/** The frame that separates routing identities from the signed message. */
const DELIMITER = Buffer.from("<IDS|MSG>", "latin1");
const EMPTY = Buffer.alloc(0);

/** The header of a Jupyter message (wire names, as the kernel sends them). */
export interface JupyterHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  [extra: string]: unknown;
}

/**
 * One Jupyter message as it travels between client and kernel. `identities` are the frames
 * before `<IDS|MSG>` (ZeroMQ routing ids, or the topic on iopub); `buffers` the raw frames after
 * the content. Content is only known to be a JSON object: check its fields before use.
 */
export interface JupyterMessage {
  identities: Buffer[];
  header: JupyterHeader;
  parent_header: Partial<JupyterHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Buffer[];
}

/** An HMAC-SHA256 key: the connection file's `key` string, its bytes, or a prepared secret key. */
export type SigningKey = string | Buffer | KeyObject;

/**
 * Builds a new message of `msgType` for `session`, replying to (or caused by) `parent` when given.
 *
 * ```ts
 * const request = createMessage("execute_request", { code: "1+1" }, sessionId);
 * ```
 */
export function createMessage(
  msgType: string,
  content: object,
  session: string,
  parent?: JupyterMessage,
): JupyterMessage {
  return {
    identities: [],
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session,
      username: "runtimed",
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    },
    parent_header: parent === undefined ? {} : parent.header,
    metadata: {},
    content: content as Record<string, unknown>,
    buffers: [],
  };
}

/** True when `key` signs nothing (Jupyter allows an empty key to turn signing off). */
function isUnsigned(key: SigningKey): boolean {
  return typeof key === "string" || Buffer.isBuffer(key) ? key.length === 0 : false;
}

/** HMAC-SHA256 over the four signed parts, in order. */
function sign(key: SigningKey, parts: readonly Buffer[]): Buffer {
  const hmac = createHmac("sha256", key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/**
 * Turns a message into ZeroMQ frames: identities, `<IDS|MSG>`, the HMAC-SHA256 signature (hex)
 * over header, parent header, metadata and content, those four as JSON, then the buffers.
 */
export function serialize(message: JupyterMessage, key: SigningKey): Buffer[] {
  const header = Buffer.from(JSON.stringify(message.header));
  const parentHeader = Buffer.from(JSON.stringify(message.parent_header));
  const metadata = Buffer.from(JSON.stringify(message.metadata));
  const content = Buffer.from(JSON.stringify(message.content));

  const signature = isUnsigned(key) ? EMPTY : Buffer.from(sign(key, [header, parentHeader, metadata, content]).toString("hex"), "latin1");

  const frames: Buffer[] = [];
  for (const identity of message.identities) frames.push(identity);
  frames.push(DELIMITER, signature, header, parentHeader, metadata, content);
  for (const buffer of message.buffers) frames.push(buffer);
  return frames;
}

/** The error `deserialize` throws; a reader drops such a message and goes on. */
export class WireError extends Error {
  override readonly name = "WireError";
}

function isDelimiter(frame: Buffer): boolean {
  return frame.length === DELIMITER.length && frame.equals(DELIMITER);
}

function parseObject(frame: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString("utf8"));
  } catch {
    throw new WireError(`Jupyter message ${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WireError(`Jupyter message ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Checks a parsed header: msg_id and msg_type are required, the other fields default to "". */
export function checkHeader(value: Record<string, unknown>): JupyterHeader {
  if (typeof value.msg_id !== "string" || typeof value.msg_type !== "string") {
    throw new WireError("Jupyter message header lacks msg_id or msg_type");
  }
  // Kernels in the wild omit these now and then; default them rather than drop the message.
  if (typeof value.session !== "string") value.session = "";
  if (typeof value.username !== "string") value.username = "";
  if (typeof value.date !== "string") value.date = "";
  if (typeof value.version !== "string") value.version = "";
  return value as JupyterHeader;
}

/**
 * Parses ZeroMQ frames into a message, verifying the signature in constant time.
 * Throws `WireError` when the delimiter is missing, the signature is wrong or a part is not JSON.
 */
export function deserialize(frames: readonly Buffer[], key: SigningKey): JupyterMessage {
  let delimiterIndex = -1;
  for (let i = 0; i < frames.length; i++) {
    if (isDelimiter(frames[i])) {
      delimiterIndex = i;
      break;
    }
  }
  if (delimiterIndex < 0) throw new WireError("Jupyter message has no <IDS|MSG> delimiter");
  if (frames.length < delimiterIndex + 6) throw new WireError("Jupyter message has too few frames");

  const signature = frames[delimiterIndex + 1];
  const header = frames[delimiterIndex + 2];
  const parentHeader = frames[delimiterIndex + 3];
  const metadata = frames[delimiterIndex + 4];
  const content = frames[delimiterIndex + 5];

  if (!isUnsigned(key)) {
    const expected = sign(key, [header, parentHeader, metadata, content]);
    const given = Buffer.from(signature.toString("latin1"), "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new WireError("Jupyter message signature does not match");
    }
  }

  return {
    identities: frames.slice(0, delimiterIndex),
    header: checkHeader(parseObject(header, "header")),
    parent_header: parseObject(parentHeader, "parent_header") as Partial<JupyterHeader>,
    metadata: parseObject(metadata, "metadata"),
    content: parseObject(content, "content"),
    buffers: frames.slice(delimiterIndex + 6),
  };
}
