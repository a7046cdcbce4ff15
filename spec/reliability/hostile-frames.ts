/**
 * A hostile client for the reliability suite: raw sockets that send garbage, truncated,
 * oversized, wrong-type and out-of-order frames. Each attack is one connection; the barrage
 * runs many of them a few at a time and counts the frames it sent.
 */
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import * as Automerge from "@automerge/automerge";
import { encodeMessage } from "../../lib/protocol/codec";
import { encodeFrame } from "../../lib/protocol/frame";
import { FrameType, PROTOCOL_VERSION } from "../../lib/protocol/messages";

/** One hostile connection: what it sends, given the socket path. */
export interface Attack {
  name: string;
  /** Frames (or frame-like chunks) it writes. */
  chunks: Uint8Array[];
  /** Stop reading from the daemon after connecting (a client that never reads). */
  stopReading?: boolean;
}

const typed = (type: number, payload: Uint8Array) => encodeFrame(Buffer.concat([Buffer.from([type]), payload]));
const request = (body: unknown) => typed(FrameType.Request, encodeMessage(body));
const handshake = (notebookId: string) => encodeFrame(encodeMessage({ channel: "notebook_sync", notebook_id: notebookId, protocol: PROTOCOL_VERSION }));

/** A real first sync message from an unrelated empty document, for truncating. */
function realSyncMessage(): Uint8Array {
  const doc = Automerge.from({ unrelated: "x".repeat(200) });
  const [, message] = Automerge.generateSyncMessage(doc, Automerge.initSyncState());
  return message ?? new Uint8Array([0x42]);
}

const BAD_HANDSHAKES: unknown[] = [
  null,
  42,
  "notebook_sync",
  [],
  { channel: 5, protocol: 1 },
  { channel: "notebook_sync", protocol: 1 },
  { channel: "notebook_sync", notebook_id: 123, protocol: 1 },
  { channel: "notebook_sync", notebook_id: "", protocol: 1 },
  { channel: "notebook_sync", notebook_id: "x".repeat(5000), protocol: 1 },
  { channel: "notebook_sync", notebook_id: "ok", protocol: "1" },
  { channel: "notebook_sync", notebook_id: "ok", protocol: 999 },
  { channel: "teleport", protocol: 1 },
  { channel: "blob", protocol: 1 },
  { __proto__: { channel: "pool" }, protocol: 1 },
  { channel: "pool" },
];

/** Requests with wrong fields, unknown actions, bad ids: each must get an error, never a crash. */
function badRequests(): unknown[] {
  const garbageHead = randomBytes(32).toString("hex");
  return [
    null,
    [1, 2, 3],
    "execute_cell",
    { action: "get_queue_state" },
    { id: "7", action: "get_queue_state" },
    { id: 1.5, action: "get_queue_state" },
    { id: 1, action: "self_destruct" },
    { id: 2, action: "execute_cell" },
    { id: 3, action: "execute_cell", cell_id: 5, execution_id: "e", heads: [] },
    { id: 4, action: "execute_cell", cell_id: "cell-nope", execution_id: "e", heads: "abc" },
    { id: 5, action: "execute_cell", cell_id: "cell-nope", execution_id: "e", heads: [garbageHead.slice(0, 10), "zz"] },
    { id: 6, action: "await_heads", heads: [1, 2] },
    { id: 7, action: "await_heads", heads: ["not-hex"] },
    { id: 8, action: "complete", code: 7, cursor_pos: "end" },
    { id: 9, action: "history", n: "lots" },
    { id: 10, action: "history", n: Number.NaN },
    { id: 11, action: "send_input", value: "x" },
    { id: 12, action: "send_comm", msg_type: "comm_msg", content: "not a map" },
    { id: 13, action: "clear_outputs", cell_id: "cell-nope", heads: [] },
    { id: 14, action: "cancel_execution", execution_id: {} },
    { id: 15, action: "launch_kernel", kernel_type: 1, env_source: null },
    { id: 16, action: "launch_kernel", kernel_type: "no-such-kernel", env_source: "auto" },
    { id: 17, action: "status" },
    { id: 18, action: "open_notebook", path: 12 },
    { id: 19, action: "save_notebook", path: ["a"] },
    { id: Number.MAX_SAFE_INTEGER, action: "get_queue_state" },
    { id: -5, action: "room_info", extra: { deeply: { nested: [1, { more: "x".repeat(1000) }] } } },
  ];
}

/** The attacks, in a fixed rotation; `room` is the shared room, `otherRoom` one of its own. */
export function attacks(room: string, otherRoom: string): Attack[] {
  const sync = realSyncMessage();
  const oversizedRequest = request({ id: 1, action: "get_queue_state", padding: "p".repeat(70 * 1024) });
  const list: Attack[] = [
    { name: "unframed random bytes", chunks: [randomBytes(1 + Math.floor(Math.random() * 2000))] },
    { name: "random frames before the handshake", chunks: Array.from({ length: 20 }, () => encodeFrame(randomBytes(Math.floor(Math.random() * 300)))) },
    { name: "a truncated frame", chunks: [Buffer.from([0, 0, 3, 232]), randomBytes(10)] },
    { name: "a truncated header", chunks: [Buffer.from([0, 0])] },
    { name: "a 4 GiB length", chunks: [Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(100)] },
    { name: "a just-over-100-MiB length", chunks: [(() => { const b = Buffer.alloc(4); b.writeUInt32BE(100 * 1024 * 1024 + 1); return b; })()] },
    { name: "an oversized handshake", chunks: [encodeFrame(encodeMessage({ channel: "pool", protocol: 1, padding: "p".repeat(70 * 1024) }))] },
    { name: "a request before the handshake", chunks: [request({ id: 1, action: "get_queue_state" }), handshake(room)] },
    { name: "an empty frame first", chunks: [encodeFrame(Buffer.alloc(0)), handshake(room)] },
    ...BAD_HANDSHAKES.map((body) => ({ name: `bad handshake ${JSON.stringify(body)?.slice(0, 40)}`, chunks: [encodeFrame(encodeMessage(body))] })),
    {
      name: "wrong frame types after the handshake",
      chunks: [handshake(room), ...[0x02, 0x03, 0x04, 0x7f, 0xff].map((type) => typed(type, randomBytes(20)))],
    },
    { name: "an empty frame after the handshake", chunks: [handshake(otherRoom), encodeFrame(Buffer.alloc(0))] },
    { name: "garbage Automerge sync bytes", chunks: [handshake(room), ...Array.from({ length: 10 }, () => typed(FrameType.Sync, randomBytes(1 + Math.floor(Math.random() * 500))))] },
    { name: "sync bytes with the sync magic and garbage", chunks: [handshake(room), typed(FrameType.Sync, Buffer.concat([Buffer.from([0x42]), randomBytes(200)]))] },
    ...[1, 5, 20, Math.floor(sync.length / 2), sync.length - 1].map((cut) => ({
      name: `a real sync message cut to ${cut} bytes`,
      chunks: [handshake(room), typed(FrameType.Sync, sync.subarray(0, cut))],
    })),
    { name: "an empty sync message", chunks: [handshake(otherRoom), typed(FrameType.Sync, new Uint8Array(0))] },
    { name: "bad requests in a room", chunks: [handshake(room), ...badRequests().map(request)] },
    { name: "undecodable requests", chunks: [handshake(otherRoom), ...Array.from({ length: 10 }, () => typed(FrameType.Request, randomBytes(50)))] },
    { name: "an oversized request", chunks: [handshake(room), oversizedRequest] },
    { name: "a second handshake", chunks: [handshake(room), handshake(otherRoom), handshake(room)] },
    {
      name: "bad pool requests",
      chunks: [
        encodeFrame(encodeMessage({ channel: "pool", protocol: PROTOCOL_VERSION })),
        ...[{ id: 1, action: "execute_cell" }, { id: 2 }, { id: 3, action: "status", extra: 1 }, null].map(request),
        typed(FrameType.Sync, randomBytes(10)),
      ],
    },
    {
      name: "a client that stops reading",
      stopReading: true,
      chunks: [handshake(room), ...Array.from({ length: 200 }, (_, i) => request({ id: i, action: "get_queue_state" }))],
    },
  ];
  return list;
}

/** Frames an attack sends (a raw chunk counts as one). */
export function frameCount(attack: Attack): number {
  return attack.chunks.length;
}

/**
 * Runs one attack on a fresh connection; resolves when the daemon closed it or after
 * `lingerMs`, always destroying the socket. Never rejects: the daemon may hang up at any byte.
 */
export function runAttack(socketPath: string, attack: Attack, lingerMs = 150): Promise<{ closedByDaemon: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let settled = false;
    const finish = (closedByDaemon: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closedByDaemon });
    };
    const timer = setTimeout(() => finish(false), lingerMs + 5_000);
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("data", () => undefined);
    socket.once("connect", () => {
      if (attack.stopReading) socket.pause();
      for (const chunk of attack.chunks) {
        if (socket.destroyed) break;
        socket.write(chunk);
      }
      clearTimeout(timer);
      setTimeout(() => finish(false), lingerMs);
    });
  });
}
