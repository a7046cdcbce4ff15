/**
 * What the gateway specs share: one real jupyter_server per spec file, an in-process daemon
 * whose kernels start on it, sessions on that daemon, and the server's own view of its kernels.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Daemon } from "../../lib/daemon/daemon";
import type { GatewayOptions } from "../../lib/gateway/gateway-config";
import type { Session, SessionOptions } from "../../lib/session/session";
import { removeDir, startTestDaemon } from "../integration/harness";
import { startJupyterServer, type JupyterServer, type JupyterServerOptions } from "./jupyter-server";

/** A daemon using a gateway, and the sessions a test opened on it. */
export interface GatewayDaemon {
  daemon: Daemon;
  cacheDir: string;
  session(options?: SessionOptions): Session;
  /** Closes every session and stops the daemon (its gateway kernels are shut down). */
  dispose(): Promise<void>;
}

/** Reconnect quickly in tests: a dropped connection is retried within a few seconds, then given up. */
export const FAST_RETRIES: Partial<GatewayOptions> = { retryIntervalMs: 200, retryIntervalMaxMs: 1000, retryMax: 4, requestTimeoutMs: 15_000 };

/** Starts an in-process daemon whose kernels start on `gateway`: the integration harness's, with a gateway. */
export async function startGatewayDaemon(gateway: GatewayOptions, options: { roomIdleSecs?: number } = {}): Promise<GatewayDaemon> {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-gateway-test-"));
  const room = await startTestDaemon({ cacheDir, gateway, roomIdleSecs: options.roomIdleSecs });
  return {
    ...room,
    async dispose() {
      await room.dispose();
      removeDir(cacheDir);
    },
  };
}

/** One jupyter_server and one daemon using it for a whole spec file, stopped after its tests. */
export function useGateway(
  options: { server?: JupyterServerOptions; gateway?: Partial<GatewayOptions>; roomIdleSecs?: number } = {},
): () => { server: JupyterServer; daemon: GatewayDaemon } {
  let server: JupyterServer | undefined;
  let daemon: GatewayDaemon | undefined;
  beforeAll(async () => {
    server = await startJupyterServer(options.server);
    daemon = await startGatewayDaemon({ url: server.url, authToken: server.token, ...FAST_RETRIES, ...options.gateway }, { roomIdleSecs: options.roomIdleSecs });
  });
  afterAll(async () => {
    await daemon?.dispose();
    await server?.stop();
  });
  return () => {
    if (!server || !daemon) throw new Error("the gateway test bed is not running (useGateway() must be called at the top of a spec file)");
    return { server, daemon };
  };
}

/** The ids of the kernels the server runs now, from its REST API. */
export async function serverKernelIds(server: JupyterServer): Promise<string[]> {
  const response = await fetch(`${server.url}/api/kernels`, { headers: { Authorization: `token ${server.token}` } });
  const kernels = (await response.json()) as { id: string }[];
  return kernels.map((kernel) => kernel.id);
}

/** Polls `check` until it holds; rejects naming `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
