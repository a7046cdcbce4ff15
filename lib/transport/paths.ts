/**
 * Where a daemon lives on disk (DESIGN.md "Processes and paths"). Shared by the daemon, which
 * creates these, and clients, which find the daemon through them.
 */
import * as os from "node:os";
import * as path from "node:path";

/** `$RUNTIMED_CACHE_DIR`, else `$XDG_CACHE_HOME/runtimed`, else `~/.cache/runtimed`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNTIMED_CACHE_DIR) return path.resolve(env.RUNTIMED_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), "runtimed");
  return path.join(os.homedir(), ".cache", "runtimed");
}

/** `$RUNTIMED_SOCKET_PATH`, else `<cache>/runtimed.sock`. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNTIMED_SOCKET_PATH) return path.resolve(env.RUNTIMED_SOCKET_PATH);
  return path.join(defaultCacheDir(env), "runtimed.sock");
}

/** The files a daemon keeps in its cache directory. */
export function daemonFiles(cacheDir: string) {
  return {
    cacheDir,
    info: path.join(cacheDir, "daemon.json"),
    lock: path.join(cacheDir, "daemon.lock"),
    /** Left by a daemon stopped on purpose, removed by the next one to start: see `stoppedOnPurpose`. */
    stopped: path.join(cacheDir, "daemon.stopped"),
    log: path.join(cacheDir, "daemon.log"),
    notebookDocs: path.join(cacheDir, "notebook-docs"),
    blobs: path.join(cacheDir, "blobs"),
    envs: path.join(cacheDir, "envs"),
    kernels: path.join(cacheDir, "kernels"),
  };
}

/** What `daemon.json` advertises. */
export interface DaemonInfo {
  endpoint: string;
  pid: number;
  version: string;
  protocol: number;
  started_at: string;
  /** The address the network face listens on (`127.0.0.1` unless `--host` / `RUNTIMED_HOST`). */
  host: string;
  /** The network face's TCP port. */
  port: number;
  /** The network face's base URL, e.g. `http://127.0.0.1:8765/`. */
  url: string;
  /** The secret every HTTP request and WebSocket must present; this file is 0600 because of it. */
  token: string;
}

/** Where the blob store keeps the bytes of a blob: `<blobs>/<first two hex digits>/<sha256>`. */
export function blobFilePath(blobDir: string, hash: string): string {
  return path.join(blobDir, hash.slice(0, 2), hash);
}
