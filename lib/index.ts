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

export * from "./client";
export { defaultCacheDir, defaultSocketPath } from "./transport/paths";
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
