/**
 * runtimed for web pages: the same `Session` as in Node, reaching a daemon's network face over a
 * WebSocket (`url`, and the `token` unless the daemon served the page), with output blobs over
 * HTTP. Bundled as `runtimed/browser` (ESM, no Node built-ins).
 *
 * ```ts
 * import { Session } from "runtimed/browser";
 * const session = new Session({ url: "http://127.0.0.1:8765/", token, notebookId: "demo" });
 * const result = await session.run("print('hello')");
 * ```
 */
import { useSessionPlatform } from "./session/platform";
import { globalWebSocketFactory } from "./transport/websocket-pipe";

useSessionPlatform({ webSocket: globalWebSocketFactory() });

export { Session, type SessionOptions, type StartKernelOptions, type ExecuteOptions } from "./session/session";
export * from "./session/operators";
export type {
  Cell,
  CellType,
  ConnectionState,
  DocumentPatch,
  ExecutionError,
  ExecutionEvent,
  ExecutionResult,
  KernelStatus,
  Output,
  QueueState,
  RoomEvent,
  StreamDelta,
  QueuedEvent,
  StartedEvent,
  OutputEvent,
  ClearedEvent,
  InputRequestEvent,
  ResultEvent,
  EnvProgressEvent,
} from "./session/types";
export { RuntimedError, type RuntimedErrorCode } from "./protocol/errors";
export { PROTOCOL_VERSION } from "./protocol/messages";
export { pageUrl } from "./protocol/page-url";
export { executeAll, summarize, type ExecuteAllOptions } from "./session/pipeline";
