/**
 * runtimed: drive Jupyter kernels through shared, live notebooks.
 *
 * ```ts
 * await using session = new Session({ notebookId: "demo" });
 * const result = await session.run("print('hello')");
 * ```
 *
 * This is the Node entry: sessions reach the daemon on this machine over its Unix socket (and
 * start it), or any daemon by `url`. `runtimed/browser` is the same client for web pages. The
 * daemon itself (ZeroMQ, kernels) is loaded only when `Daemon.start()` is called.
 */
import "./transport/node-platform";
import type { Daemon as DaemonClass, DaemonOptions } from "./daemon/daemon";

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
export { defaultCacheDir, defaultSocketPath } from "./transport/paths";
export { pageUrl } from "./protocol/page-url";
export type { DaemonOptions };
/** A running daemon (see `Daemon.start`). */
export type Daemon = DaemonClass;
/** Runs a daemon in this process (tests, embedding); loads the daemon's code on first use. */
export const Daemon = {
  async start(options?: DaemonOptions): Promise<DaemonClass> {
    const { Daemon: DaemonImplementation } = await import("./daemon/daemon");
    return DaemonImplementation.start(options);
  },
};
export { DaemonClient, type DaemonClientOptions, type DaemonStatusReport, type GarbageReport, type GatewayReport, type RoomListing } from "./transport/daemon-client";
export type { GatewayOptions } from "./gateway/gateway-config";
export { executeAll, summarize, type ExecuteAllOptions } from "./session/pipeline";
