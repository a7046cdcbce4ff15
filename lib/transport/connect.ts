import { RuntimedError } from "../protocol/errors";
import type { Handshake } from "../protocol/messages";
import { isAlive, spawnDaemon, startFailed, takeStartError } from "./autostart";
import type { DaemonConnection } from "./daemon-connection";
import { defaultCacheDir } from "./paths";
import { stoppedOnPurpose } from "./stop-marker";
import { openUnixConnection } from "./unix-socket";

/** Where to find (or start) the daemon. */
export interface DaemonAddress {
  socketPath: string;
  /** Cache dir for a daemon started on demand (default: the environment's). */
  cacheDir?: string;
  /** Start a daemon when nothing answers (default true). */
  autoStart?: boolean;
  /** How long to wait for a started daemon (default 30 s). */
  startTimeoutMs?: number;
  /** Start none, failing with DAEMON_STOPPED, when the last daemon here was stopped on purpose (a reconnect). */
  unlessStopped?: boolean;
}

const RETRY_MS = 50;

/**
 * Opens a connection, starting a detached daemon first when nothing answers and `autoStart`
 * allows it. Concurrent callers may both spawn one; the daemon lock keeps exactly one.
 */
export async function connectToDaemon(address: DaemonAddress, handshake: Handshake): Promise<DaemonConnection> {
  try {
    return await openUnixConnection({ socketPath: address.socketPath, handshake });
  } catch (error) {
    if (!(error instanceof RuntimedError) || error.code !== "DAEMON_UNAVAILABLE" || address.autoStart === false) throw error;
    const stop = address.unlessStopped ? stoppedOnPurpose(address.cacheDir ?? defaultCacheDir(), address.socketPath) : undefined;
    if (stop) throw new RuntimedError("DAEMON_STOPPED", `The runtimed daemon at ${address.socketPath} was stopped on purpose (${stop}); a new Session or connect() starts one`);
  }
  const started = spawnDaemon(address.socketPath, address.cacheDir);
  const deadline = Date.now() + (address.startTimeoutMs ?? 30_000);
  let lastError: RuntimedError | undefined;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    try {
      const connection = await openUnixConnection({ socketPath: address.socketPath, handshake, timeoutMs: 5000 });
      takeStartError(started.stderrFile);
      return connection;
    } catch (error) {
      lastError = error instanceof RuntimedError ? error : undefined;
      if (lastError && lastError.code !== "DAEMON_UNAVAILABLE") throw lastError;
    }
    if (!isAlive(started.pid)) {
      const detail = takeStartError(started.stderrFile);
      // Losing the race to another starter is fine: keep waiting for the winner.
      if (!/already serves|already answers/.test(detail)) throw startFailed(address.socketPath, detail);
    }
  }
  throw startFailed(address.socketPath, lastError?.message ?? "timed out");
}
