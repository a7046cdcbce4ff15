/**
 * Every frame of the runtimed protocol, in one place: handshake, requests, responses and
 * broadcasts. Values arrive as `unknown` and leave the decoders at the bottom as these unions.
 */
import { RuntimedError, type RuntimedErrorCode } from "./errors";
import type { StreamAppend } from "./stream-append";

/** Version of this protocol; a client and daemon must agree on it. 2: stream-append frames. */
export const PROTOCOL_VERSION = 2;

/**
 * Type byte that starts every frame after the handshake. StreamAppend (daemon -> client) carries
 * what a stream output gained, its text outside msgpack (see stream-append.ts).
 */
export const FrameType = { Sync: 0x00, Request: 0x01, Response: 0x02, Broadcast: 0x03, StreamAppend: 0x04 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

// ---------------------------------------------------------------------------------------------
// Handshake

export type Handshake =
  | { channel: "notebook_sync"; notebook_id: string; protocol: number }
  | { channel: "pool"; protocol: number }
  | { channel: "blob"; protocol: number };

export type HandshakeReply =
  | {
      ok: true;
      protocol: number;
      daemon_version: string;
      /** The room document's heads (notebook_sync): the client's first sync is done once it has them. */
      heads?: string[];
      /** Port of the daemon's HTTP face, which serves `/blob/<sha256>` (with the daemon's token). */
      blob_port?: number | null;
      /** The blob store's directory, for clients on the daemon's machine to read directly. */
      blob_dir?: string | null;
    }
  | { ok: false; error: WireError };

export interface WireError {
  code: RuntimedErrorCode;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** Kernel lifecycle as clients see it. */
export type KernelStatus = "not_started" | "starting" | "idle" | "busy" | "restarting" | "shutting_down" | "dead";

/**
 * Where a kernel runs: `"gateway"` on the daemon's Jupyter gateway, `"local"` on the daemon's
 * machine; omitted, on the gateway when the daemon has one, else locally.
 */
export type KernelLocation = "local" | "gateway";

/** One execution in a room's queue. */
export interface QueueEntry {
  execution_id: string;
  cell_id: string;
}

/** The answer to `execution_status`. */
export type ExecutionStatus =
  | { state: "queued" | "running" | "unknown" }
  | { state: "done"; success: boolean; execution_count: number | null; error: WireError | null };

export interface QueueState {
  executing: QueueEntry | null;
  queued: QueueEntry[];
}

/** An output manifest, JSON-encoded as stored in the document (see outputs/manifest). */
export type EncodedManifest = string;

// ---------------------------------------------------------------------------------------------
// Requests (client -> daemon). `id` is chosen by the client and echoed in the response.

export type RoomRequestBody =
  | { action: "launch_kernel"; kernel_type: string; env_source: string; notebook_path?: string; location?: KernelLocation }
  | { action: "execute_cell"; cell_id: string; execution_id: string; heads: string[]; allow_stdin?: boolean }
  | { action: "cancel_execution"; execution_id: string }
  | { action: "execution_status"; execution_id: string }
  | { action: "clear_outputs"; cell_id: string; heads: string[] }
  | { action: "interrupt" }
  | { action: "restart_kernel" }
  | { action: "shutdown_kernel" }
  | { action: "get_kernel_info" }
  | { action: "get_queue_state" }
  | { action: "await_heads"; heads: string[] }
  | { action: "send_input"; value: string }
  | { action: "send_comm"; msg_type: string; content: Record<string, unknown> }
  | { action: "complete"; code: string; cursor_pos: number }
  | { action: "history"; pattern?: string; n?: number }
  | { action: "room_info" }
  | { action: "open_notebook"; path: string }
  | { action: "save_notebook"; path?: string };

export type PoolRequestBody =
  | { action: "ping" }
  | { action: "status" }
  | { action: "list_rooms" }
  | { action: "flush_pool" }
  /** Removes blobs no document refers to; `grace_secs` overrides the daemon's grace period. */
  | { action: "collect_garbage"; grace_secs?: number | null }
  | { action: "shutdown" };

export type RequestBody = RoomRequestBody | PoolRequestBody;
export type Request = RequestBody & { id: number };
export type RoomAction = RoomRequestBody["action"];
export type PoolAction = PoolRequestBody["action"];

// ---------------------------------------------------------------------------------------------
// Responses (daemon -> client)

export interface KernelInfo {
  status: KernelStatus;
  kernel_type: string | null;
  env_source: string | null;
  pid: number | null;
  language_info: Record<string, unknown> | null;
}

export interface RoomInfo {
  notebook_id: string;
  clients: number;
  /** The .ipynb file this room is linked to, if any. */
  path: string | null;
}

export interface RoomSummary {
  notebook_id: string;
  clients: number;
  kernel_status: KernelStatus;
  env_source: string | null;
}

/** The daemon's Jupyter gateway and whether it answered just now (never its token). */
export interface GatewayStatus {
  url: string;
  reachable: boolean;
  default_kernelspec: string | null;
  kernelspecs: string[];
  /** Why it did not answer. */
  error: string | null;
}

export interface DaemonStatus {
  version: string;
  protocol: number;
  pid: number;
  uptime_secs: number;
  socket_path: string;
  cache_dir: string;
  rooms: RoomSummary[];
  pool: { backend: string; ready: number; building: number }[];
  /** The address the network face listens on. */
  host: string;
  /** The network face's base URL. */
  url: string;
  /** The network face's token (the pool channel is on the Unix socket, whose permissions guard it). */
  token: string;
  /** The gateway kernels start on; null without one (absent from daemons before gateways). */
  gateway?: GatewayStatus | null;
}

/** What each action answers with on success. */
export interface ResponseData {
  launch_kernel: { kernel_type: string; env_source: string; already_running: boolean };
  execute_cell: { execution_id: string; position: number };
  cancel_execution: { cancelled: "queued" | "running" | "none" };
  /** Where an execution is; `done` carries its end as `execution_done` did. `unknown`: never seen, or forgotten (the daemon restarted). */
  execution_status: ExecutionStatus;
  clear_outputs: Record<string, never>;
  interrupt: Record<string, never>;
  restart_kernel: { kernel_type: string; env_source: string };
  shutdown_kernel: { was_running: boolean };
  get_kernel_info: KernelInfo;
  get_queue_state: QueueState;
  /** The daemon's heads once it has the client's: waiting for them syncs the other way. */
  await_heads: { heads: string[] };
  send_input: Record<string, never>;
  send_comm: Record<string, never>;
  complete: { matches: string[]; cursor_start: number; cursor_end: number; metadata: Record<string, unknown> };
  history: { history: [number, number, string][] };
  room_info: RoomInfo;
  open_notebook: { path: string; loaded: boolean; cells: number };
  save_notebook: { path: string };
  ping: { pong: true };
  status: DaemonStatus;
  list_rooms: { rooms: RoomSummary[] };
  flush_pool: Record<string, never>;
  /** What the collection removed and kept; `skipped` says why nothing was removed, when so. */
  collect_garbage: { removed: number; freed_bytes: number; kept: number; skipped: string | null };
  shutdown: Record<string, never>;
}

export type Response =
  | { id: number; result: "ok"; data: unknown }
  | { id: number; result: "error"; error: WireError };

// ---------------------------------------------------------------------------------------------
// Broadcasts (daemon -> every client of a room)

export type Broadcast =
  | { event: "kernel_status"; status: KernelStatus; kernel_type: string | null; env_source: string | null }
  | { event: "execution_queued"; execution_id: string; cell_id: string }
  | { event: "execution_started"; execution_id: string; cell_id: string; execution_count: number | null }
  | { event: "output"; execution_id: string; cell_id: string; index: number; output: EncodedManifest }
  | { event: "clear_outputs"; execution_id: string | null; cell_id: string }
  | { event: "display_update"; cell_id: string; index: number; output: EncodedManifest }
  | {
      event: "execution_done";
      execution_id: string;
      cell_id: string;
      success: boolean;
      execution_count: number | null;
      error: WireError | null;
    }
  | { event: "queue_changed"; executing: QueueEntry | null; queued: QueueEntry[] }
  | { event: "kernel_error"; message: string }
  | { event: "input_request"; execution_id: string | null; prompt: string; password: boolean }
  | { event: "comm"; msg_type: string; content: Record<string, unknown> }
  | { event: "env_progress"; phase: string; package: string | null; fraction: number | null; message: string | null }
  /** The daemon is stopping on purpose (`runtimed daemon stop`): do not reconnect or restart it. */
  | { event: "daemon_stopping"; message: string }
  /** A stream-append frame, as clients decode it (it never travels as msgpack). */
  | ({ event: "stream_append"; appended_bytes: number } & StreamAppend);

export type BroadcastEvent = Broadcast["event"];

// ---------------------------------------------------------------------------------------------
// Decoders: the only way `unknown` becomes one of the types above.

type FieldKind = "string" | "number" | "boolean" | "string[]" | "object" | "string?" | "number?" | "boolean?";

const requestFields: { [A in RequestBody["action"]]: Record<string, FieldKind> } = {
  launch_kernel: { kernel_type: "string", env_source: "string", notebook_path: "string?", location: "string?" },
  execute_cell: { cell_id: "string", execution_id: "string", heads: "string[]", allow_stdin: "boolean?" },
  cancel_execution: { execution_id: "string" },
  execution_status: { execution_id: "string" },
  clear_outputs: { cell_id: "string", heads: "string[]" },
  interrupt: {},
  restart_kernel: {},
  shutdown_kernel: {},
  get_kernel_info: {},
  get_queue_state: {},
  await_heads: { heads: "string[]" },
  send_input: { value: "string" },
  send_comm: { msg_type: "string", content: "object" },
  complete: { code: "string", cursor_pos: "number" },
  history: { pattern: "string?", n: "number?" },
  room_info: {},
  open_notebook: { path: "string" },
  save_notebook: { path: "string?" },
  ping: {},
  status: {},
  list_rooms: {},
  flush_pool: {},
  collect_garbage: { grace_secs: "number?" },
  shutdown: {},
};

const poolActions = new Set<string>(["ping", "status", "list_rooms", "flush_pool", "collect_garbage", "shutdown"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldMatches(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "string[]":
      return Array.isArray(value) && value.every((item) => typeof item === "string");
    case "object":
      return isRecord(value);
    case "string?":
      return value === undefined || value === null || typeof value === "string";
    case "number?":
      return value === undefined || value === null || (typeof value === "number" && Number.isFinite(value));
    case "boolean?":
      return value === undefined || value === null || typeof value === "boolean";
  }
}

function bad(message: string): RuntimedError {
  return new RuntimedError("BAD_REQUEST", message);
}

/** Checks a client's first frame. */
export function decodeHandshake(value: unknown): Handshake {
  if (!isRecord(value) || typeof value.channel !== "string") {
    throw new RuntimedError("PROTOCOL", "The first frame must be a handshake {channel, protocol}");
  }
  if (typeof value.protocol !== "number") {
    throw new RuntimedError("PROTOCOL", "The handshake carries no protocol version");
  }
  switch (value.channel) {
    case "notebook_sync":
      if (typeof value.notebook_id !== "string" || value.notebook_id.length === 0 || value.notebook_id.length > 1024) {
        throw new RuntimedError("PROTOCOL", "A notebook_sync handshake needs a notebook_id (1-1024 characters)");
      }
      return { channel: "notebook_sync", notebook_id: value.notebook_id, protocol: value.protocol };
    case "pool":
    case "blob":
      return { channel: value.channel, protocol: value.protocol };
    default:
      throw new RuntimedError("PROTOCOL", `Unknown channel ${JSON.stringify(value.channel)}`);
  }
}

/** Checks the daemon's answer to a handshake. */
export function decodeHandshakeReply(value: unknown): HandshakeReply {
  if (isRecord(value) && value.ok === true && typeof value.protocol === "number" && typeof value.daemon_version === "string") {
    const heads = fieldMatches(value.heads, "string[]") ? (value.heads as string[]) : undefined;
    const blobPort = typeof value.blob_port === "number" ? value.blob_port : null;
    const blobDir = typeof value.blob_dir === "string" ? value.blob_dir : null;
    return { ok: true, protocol: value.protocol, daemon_version: value.daemon_version, heads, blob_port: blobPort, blob_dir: blobDir };
  }
  if (isRecord(value) && value.ok === false) {
    return { ok: false, error: RuntimedError.fromWire(value.error).toWire() };
  }
  throw new RuntimedError("PROTOCOL", "Malformed handshake reply from the daemon");
}

/**
 * Checks a request. Throws BAD_REQUEST naming the problem; `requestId` on the error lets the
 * daemon still answer the request it could not understand.
 */
export function decodeRequest(value: unknown, channel: "notebook_sync" | "pool"): Request {
  if (!isRecord(value)) throw bad("A request must be a map");
  if (typeof value.id !== "number" || !Number.isInteger(value.id)) throw bad("A request needs an integer id");
  const action = value.action;
  if (typeof action !== "string" || !(action in requestFields)) {
    throw Object.assign(bad(`Unknown action ${JSON.stringify(action)}`), { requestId: value.id });
  }
  if ((channel === "pool") !== poolActions.has(action)) {
    throw Object.assign(bad(`Action ${action} is not served on the ${channel} channel`), { requestId: value.id });
  }
  const fields = requestFields[action as RequestBody["action"]];
  for (const [name, kind] of Object.entries(fields)) {
    if (!fieldMatches(value[name], kind)) {
      throw Object.assign(bad(`${action}: field ${name} must be ${kind.replace("?", " (optional)")}`), {
        requestId: value.id,
      });
    }
  }
  return value as unknown as Request;
}

/** Checks a request on a `notebook_sync` connection. */
export function decodeRoomRequest(value: unknown): RoomRequestBody & { id: number } {
  return decodeRequest(value, "notebook_sync") as RoomRequestBody & { id: number };
}

/** Checks a request on a `pool` connection. */
export function decodePoolRequest(value: unknown): PoolRequestBody & { id: number } {
  return decodeRequest(value, "pool") as PoolRequestBody & { id: number };
}

/** Checks a response from the daemon. */
export function decodeResponse(value: unknown): Response {
  if (isRecord(value) && typeof value.id === "number") {
    if (value.result === "ok") return { id: value.id, result: "ok", data: value.data ?? {} };
    if (value.result === "error") return { id: value.id, result: "error", error: RuntimedError.fromWire(value.error).toWire() };
  }
  throw new RuntimedError("PROTOCOL", "Malformed response from the daemon");
}

const broadcastEvents = new Set<string>([
  "kernel_status",
  "execution_queued",
  "execution_started",
  "output",
  "clear_outputs",
  "display_update",
  "execution_done",
  "queue_changed",
  "kernel_error",
  "input_request",
  "comm",
  "env_progress",
  "daemon_stopping",
]);

/** Checks a broadcast from the daemon (by its tag; the daemon is the trusted side). */
export function decodeBroadcast(value: unknown): Broadcast {
  if (isRecord(value) && typeof value.event === "string" && broadcastEvents.has(value.event)) {
    return value as unknown as Broadcast;
  }
  throw new RuntimedError("PROTOCOL", `Malformed broadcast from the daemon: ${JSON.stringify(value)?.slice(0, 200)}`);
}
