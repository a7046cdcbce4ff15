/**
 * Ours: this package through the daemon. By default the daemon runs as its own process, started
 * the way `Session` auto-starts it from the sources (`node --import tsx lib/daemon/main.ts
 * --socket S --cache-dir D`, see lib/transport/autostart.ts), on a temporary cache dir; with
 * `inProcess` it is a `Daemon` in the benchmark's own event loop. `Session`s connect to its
 * socket exactly as an embedding application would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Daemon } from "../lib/daemon/daemon";
import { Session } from "../lib";
import { DaemonClient, type DaemonStatusReport } from "../lib/transport/daemon-client";
import { killTree, waitExit } from "./processes";
import { sleep } from "./stats";

/** The daemon's default delay between a document change and its save. */
const SAVE_DELAY_MS = 500;
const REPO_ROOT = path.resolve(__dirname, "..");

/** How to run the benchmark's daemon. */
export interface OursDaemonOptions {
  /** A `Daemon` in this process instead of a process of its own. */
  inProcess?: boolean;
  /** Node flags for the daemon process, e.g. `--cpu-prof` (profiling). */
  nodeArgs?: string[];
  /** Extra environment for the daemon process. */
  env?: NodeJS.ProcessEnv;
  /** The entry module run with tsx (default lib/daemon/main.ts). */
  entry?: string;
}

/** The command line a separate daemon runs with, as `Session` auto-start builds it from sources. */
function daemonArgv(options: OursDaemonOptions, socketPath: string, cacheDir: string): string[] {
  const entry = options.entry ?? path.join(REPO_ROOT, "lib", "daemon", "main.ts");
  return [...(options.nodeArgs ?? []), "--import", require.resolve("tsx"), entry, "--socket", socketPath, "--cache-dir", cacheDir];
}

/** The benchmark's daemon, with helpers to read what it persisted. */
export class OursDaemon {
  private readonly sessions = new Set<Session>();

  private constructor(
    /** The in-process daemon, or the child process running one. */
    private readonly daemon: Daemon | ChildProcess,
    readonly cacheDir: string,
    readonly socketPath: string,
    /** How the daemon runs, for the report. */
    readonly description: string,
  ) {}

  /** Starts the daemon on `cacheDir` (created; the caller removes it) and waits until it answers. */
  static async start(cacheDir: string, options: OursDaemonOptions = {}): Promise<OursDaemon> {
    const socketPath = path.join(cacheDir, "runtimed.sock");
    if (options.inProcess) {
      const daemon = await Daemon.start({ cacheDir, socketPath, saveDelayMs: SAVE_DELAY_MS });
      return new OursDaemon(daemon, cacheDir, socketPath, "in-process (Daemon.start in the benchmark's event loop)");
    }
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const stderrFile = path.join(cacheDir, "daemon.stderr");
    const stderr = fs.openSync(stderrFile, "w", 0o600);
    const argv = daemonArgv(options, socketPath, cacheDir);
    const child = spawn(process.execPath, argv, {
      cwd: REPO_ROOT,
      stdio: ["ignore", "ignore", stderr],
      env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1", ...options.env, RUNTIMED_SOCKET_PATH: socketPath, RUNTIMED_CACHE_DIR: cacheDir },
    });
    fs.closeSync(stderr);
    const shown = argv.map((arg) => (arg.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, arg) : arg === require.resolve("tsx") ? "tsx" : arg));
    const ours = new OursDaemon(child, cacheDir, socketPath, `separate process: node ${shown.join(" ")}`);
    const client = new DaemonClient({ socketPath });
    const deadline = Date.now() + 60_000;
    while (!(await client.isRunning())) {
      if (Date.now() > deadline || child.exitCode !== null) {
        if (child.pid !== undefined) killTree(child.pid);
        const said = fs.readFileSync(stderrFile, "utf8").trim();
        throw new Error(`the daemon process did not come up within 60 s${said ? `: ${said}` : ""}`);
      }
      await sleep(100);
    }
    return ours;
  }

  /** The daemon's pid (this process when in-process). */
  get pid(): number {
    return this.daemon instanceof Daemon ? process.pid : this.daemon.pid!;
  }

  /** True when the daemon runs in its own process. */
  get separate(): boolean {
    return !(this.daemon instanceof Daemon);
  }

  /** Last-resort synchronous kill of a separate daemon process and its kernels. */
  kill(): void {
    if (!(this.daemon instanceof Daemon) && this.daemon.exitCode === null && this.daemon.pid !== undefined) killTree(this.daemon.pid);
  }

  /** A session on this daemon (never auto-starting another); closed by `stop()` if still open. */
  session(notebookId?: string): Session {
    const session = new Session({ notebookId, socketPath: this.socketPath, cacheDir: this.cacheDir, autoStart: false, reconnect: false });
    this.sessions.add(session);
    return session;
  }

  /** Closes a session (shutting its kernel down) and forgets it. */
  async closeSession(session: Session, shutdownKernel = true): Promise<void> {
    this.sessions.delete(session);
    await session.close({ shutdownKernel });
  }

  status(): Promise<DaemonStatusReport> {
    return new DaemonClient({ socketPath: this.socketPath }).status();
  }

  /**
   * Waits until the daemon's pool (if it has one) is not building anything, so "daemon warm"
   * means warm. Returns the pool as last seen, for the report.
   */
  async waitPoolSettled(timeoutMs = 60_000): Promise<DaemonStatusReport["pool"]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pool = (await this.status()).pool;
      if (pool.every((entry) => entry.building === 0) || Date.now() > deadline) return pool;
      await sleep(100);
    }
  }

  /**
   * Size in bytes of the room's saved document (`Automerge.save(doc)`, written by the daemon to
   * `<cache>/notebook-docs/`), once the debounced save of the latest change has landed: call it
   * right after a change, and it waits for a save newer than the call (at most 30 s).
   */
  async roomFileSize(notebookId: string): Promise<number> {
    const since = Date.now();
    const file = path.join(this.cacheDir, "notebook-docs", createHash("sha256").update(notebookId).digest("hex") + ".automerge");
    const deadline = since + Math.max(30_000, SAVE_DELAY_MS * 10);
    for (;;) {
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (stat && stat.mtimeMs >= since) return stat.size;
      if (Date.now() > deadline) {
        if (stat) return stat.size;
        throw new Error(`the daemon never saved notebook ${notebookId} to ${file}`);
      }
      await sleep(50);
    }
  }

  /** Closes every session still open and stops the daemon (kernels included). */
  async stop(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
    this.sessions.clear();
    const daemon = this.daemon;
    if (daemon instanceof Daemon) return daemon.stop();
    if (daemon.exitCode !== null || daemon.signalCode !== null) return;
    // A graceful stop: the daemon shuts its kernels down and exits 0 (which writes a --cpu-prof).
    await new DaemonClient({ socketPath: this.socketPath }).shutdown().catch(() => daemon.kill("SIGTERM"));
    await waitExit(daemon, 20_000);
  }
}
