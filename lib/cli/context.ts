import * as path from "node:path";
import { defaultCacheDir } from "../transport/paths";
import type { GlobalOptions } from "./args";

/** What every command works with: where the daemon is, and where to print. */
export interface CliContext {
  socketPath: string;
  cacheDir: string;
  /** Results: tables, JSON, cell output. */
  stdout: NodeJS.WriteStream;
  /** Progress, notices, errors. */
  stderr: NodeJS.WriteStream;
}

/**
 * Resolves `--socket` / `--cache-dir` against the environment (DESIGN.md "Processes and paths").
 * A cache dir given without a socket puts the socket inside it, as a daemon started there would.
 * The result is also exported to `RUNTIMED_*` so daemons and sessions started from here agree.
 */
export function resolveContext(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliContext {
  const cacheDir = globals.cacheDir ? path.resolve(globals.cacheDir) : defaultCacheDir(env);
  const socketPath = globals.socketPath
    ? path.resolve(globals.socketPath)
    : env.RUNTIMED_SOCKET_PATH
      ? path.resolve(env.RUNTIMED_SOCKET_PATH)
      : path.join(cacheDir, "runtimed.sock");
  env.RUNTIMED_CACHE_DIR = cacheDir;
  env.RUNTIMED_SOCKET_PATH = socketPath;
  return { socketPath, cacheDir, stdout: process.stdout, stderr: process.stderr };
}
