/**
 * A wire tap for the per-execution breakdown: notes the time of every frame a process writes to
 * or reads from a Unix socket (the runtimed protocol) and of every Jupyter message it sends or
 * receives over ZeroMQ, by patching `net.Socket` and `zeromq.Socket` prototypes — nothing in
 * lib/ changes. Recording is a clock read and an array push; decoding (msgpack, message
 * headers) waits until `decode()`, after the measurement.
 */
import * as net from "node:net";
import * as zmq from "zeromq";
import { decodeMessage } from "../../lib/protocol/codec";
import { FrameDecoder } from "../../lib/protocol/frame";

/** One observed message, decoded. Times are ms since the epoch (sub-ms). */
export interface TapEvent {
  at: number;
  /** "out" written by this process, "in" read by it. */
  dir: "in" | "out";
  /** "sync" (Automerge), "request <action>", "response <id>", "broadcast <event>", "zmq <msg_type>[ <state>]", "other". */
  what: string;
  bytes: number;
  /** The kernel's header.date (ms since the epoch) of a received Jupyter message. */
  kernelAt?: number;
}

interface RawEvent {
  at: number;
  dir: "in" | "out";
  kind: "frame" | "zmq";
  payload: Buffer | Buffer[];
}

const DELIMITER = "<IDS|MSG>";

function clock(): number {
  return performance.timeOrigin + performance.now();
}

/** ISO 8601 with microseconds ("2026-12-01T14:24:13.123456Z", ipykernel's header.date) → epoch ms. */
export function isoToEpochMs(iso: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(iso);
  if (!match) return Date.parse(iso);
  const fraction = match[2] ?? "0";
  return Date.parse(`${match[1]}${match[3] ?? "Z"}`) + Number(`0.${fraction}`) * 1000;
}

/** Installs the tap; returns the events recorded so far (decoded) and a way to remove it. */
export function installTap(): { decode(): TapEvent[]; uninstall(): void } {
  const raw: RawEvent[] = [];
  const readers = new WeakMap<net.Socket, FrameDecoder>();
  const writers = new WeakMap<net.Socket, FrameDecoder>();
  const isUnix = (socket: net.Socket) => socket.remoteAddress === undefined && socket.remotePort === undefined;
  const frames = (table: WeakMap<net.Socket, FrameDecoder>, socket: net.Socket, chunk: Uint8Array): Uint8Array[] => {
    let decoder = table.get(socket);
    if (!decoder) table.set(socket, (decoder = new FrameDecoder(Infinity)));
    try {
      return decoder.push(chunk);
    } catch {
      return [];
    }
  };

  const socketProto = net.Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originalWrite = socketProto.write!;
  const originalEmit = socketProto.emit!;
  socketProto.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (chunk instanceof Uint8Array && isUnix(this)) {
      const at = clock();
      for (const frame of frames(writers, this, chunk)) raw.push({ at, dir: "out", kind: "frame", payload: Buffer.from(frame) });
    }
    return originalWrite.call(this, chunk, ...rest);
  };
  socketProto.emit = function (this: net.Socket, event: unknown, ...args: unknown[]) {
    if (event === "data" && Buffer.isBuffer(args[0]) && isUnix(this)) {
      const at = clock();
      for (const frame of frames(readers, this, args[0])) raw.push({ at, dir: "in", kind: "frame", payload: Buffer.from(frame) });
    }
    return originalEmit.call(this, event, ...args);
  };

  // zeromq's native methods are read-only properties: replace them with defineProperty.
  const zmqProto = zmq.Socket.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const originalSend = zmqProto.send!;
  const originalReceive = zmqProto.receive!;
  const define = (name: string, value: unknown) => Object.defineProperty(zmqProto, name, { value, writable: false, configurable: true });
  define("send", function (this: zmq.Socket, message: unknown, ...rest: unknown[]) {
    if (Array.isArray(message)) raw.push({ at: clock(), dir: "out", kind: "zmq", payload: message.map((part) => Buffer.from(part as Buffer)) });
    return originalSend.call(this, message, ...rest);
  });
  define("receive", function (this: zmq.Socket, ...args: unknown[]) {
    return originalReceive.call(this, ...args).then((message) => {
      raw.push({ at: clock(), dir: "in", kind: "zmq", payload: message as Buffer[] });
      return message;
    });
  });

  return {
    decode: () => raw.map(decodeRaw),
    uninstall: () => {
      socketProto.write = originalWrite;
      socketProto.emit = originalEmit;
      define("send", originalSend);
      define("receive", originalReceive);
    },
  };
}

function decodeRaw(event: RawEvent): TapEvent {
  const base = { at: event.at, dir: event.dir };
  if (event.kind === "zmq") {
    const parts = event.payload as Buffer[];
    const start = parts.findIndex((part) => part.toString("latin1") === DELIMITER);
    const bytes = parts.reduce((sum, part) => sum + part.length, 0);
    try {
      const header = JSON.parse(parts[start + 2]!.toString("utf8")) as { msg_type: string; date: string };
      let what = `zmq ${header.msg_type}`;
      if (header.msg_type === "status") what += ` ${(JSON.parse(parts[start + 5]!.toString("utf8")) as { execution_state: string }).execution_state}`;
      return { ...base, what, bytes, kernelAt: event.dir === "in" ? isoToEpochMs(header.date) : undefined };
    } catch {
      return { ...base, what: "zmq other", bytes };
    }
  }
  const frame = event.payload as Buffer;
  const type = frame[0];
  const bytes = frame.length;
  if (type === 0x00) return { ...base, what: "sync", bytes };
  if (type === 0x04) return { ...base, what: "stream append", bytes };
  if (type !== 0x01 && type !== 0x02 && type !== 0x03) return { ...base, what: "other", bytes };
  let message: Record<string, unknown>;
  try {
    message = decodeMessage(frame.subarray(1)) as Record<string, unknown>;
  } catch {
    return { ...base, what: "other", bytes };
  }
  if (type === 0x01) return { ...base, what: `request ${String(message.action)}`, bytes };
  if (type === 0x02) return { ...base, what: "response", bytes };
  const status = message.event === "kernel_status" ? ` ${String(message.status)}` : "";
  return { ...base, what: `broadcast ${String(message.event)}${status}`, bytes };
}
