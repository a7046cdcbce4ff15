/**
 * What every entry exports for clients, whatever the runtime: `runtimed` (Node) and
 * `runtimed/browser` add their transports and runtime-specific exports around this.
 */
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
