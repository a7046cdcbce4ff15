/**
 * runtimed: drive Jupyter kernels through shared, live notebooks.
 *
 * ```ts
 * await using session = new Session({ notebookId: "demo" });
 * const result = await session.run("print('hello')");
 * ```
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
export { defaultCacheDir, defaultSocketPath } from "./protocol/paths";
export { Daemon, type DaemonOptions } from "./daemon/daemon";
export type { GatewayOptions } from "./gateway/gateway-config";
export { DaemonClient, type DaemonClientOptions, type DaemonStatusReport, type GatewayReport, type RoomListing } from "./transport/daemon-client";
export { executeAll, summarize, type ExecuteAllOptions } from "./session/pipeline";
