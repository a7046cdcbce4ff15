/**
 * Ours: this package through the daemon. An in-process `Daemon` on a temp cache dir, and
 * `Session`s on its socket, exactly as an embedding application would use them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Daemon } from "../lib/daemon/daemon";
import { Session } from "../lib/session/session";
import { DaemonClient, type DaemonStatusReport } from "../lib/transport/daemon-client";
import { sleep } from "./stats";

/** The daemon's default delay between a document change and its save. */
const SAVE_DELAY_MS = 500;

/** An in-process daemon for the benchmark, with helpers to read what it persisted. */
export class OursDaemon {
  private readonly sessions = new Set<Session>();

  private constructor(
    /** The in-process daemon, or the child process running one. */
    private readonly daemon: Daemon | ChildProcess,
    readonly cacheDir: string,
    readonly socketPath: string,
  ) {}

  /**
   * Starts the daemon in this process (`Daemon.start`), or with `separateProcess` as its own
   * process (`node --import tsx lib/daemon/main.ts`, as `Session.connect()` would auto-start it).
   */
  static async start(cacheDir: string, separateProcess = false): Promise<OursDaemon> {
    const socketPath = path.join(cacheDir, "runtimed.sock");
    if (!separateProcess) {
      const daemon = await Daemon.start({ cacheDir, socketPath, saveDelayMs: SAVE_DELAY_MS });
      return new OursDaemon(daemon, cacheDir, socketPath);
    }
    const child = spawn(process.execPath, ["--import", "tsx", "lib/daemon/main.ts", "--socket", socketPath, "--cache-dir", cacheDir], {
      cwd: path.resolve(__dirname, ".."),
      stdio: ["ignore", "ignore", "inherit"],
    });
    const ours = new OursDaemon(child, cacheDir, socketPath);
    const client = new DaemonClient({ socketPath });
    const deadline = Date.now() + 30_000;
    while (!(await client.isRunning())) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error("the daemon process did not come up within 30 s");
      }
      await sleep(100);
    }
    return ours;
  }

  /** The daemon's pid (this process when in-process). */
  get pid(): number {
    return this.daemon instanceof Daemon ? process.pid : this.daemon.pid!;
  }

  /** Last-resort synchronous kill of a separate daemon process. */
  kill(): void {
    if (!(this.daemon instanceof Daemon) && this.daemon.exitCode === null) this.daemon.kill("SIGKILL");
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
    const exited = new Promise<void>((resolve) => daemon.once("exit", () => resolve()));
    await new DaemonClient({ socketPath: this.socketPath }).shutdown().catch(() => daemon.kill("SIGTERM"));
    const timer = setTimeout(() => daemon.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
