/**
 * Process helpers for the reliability suite: real daemon processes that can be killed with
 * SIGKILL, memory readings from /proc, and scans for anything left running under a temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DaemonInfo } from "../../lib/transport/paths";
import { waitFor } from "../wait-for";

/** Prefix of every temp dir this suite creates, so a scan of /proc can find its leftovers. */
export const TEMP_PREFIX = "runtimed-rel-";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Makes a temp cache dir whose name marks it as this suite's. */
export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}${label}-`));
}

export { waitFor } from "../wait-for";

/** Rejects with a named error when `promise` takes longer than `ms`. */
export function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

/** True while `pid` is a live process (zombies count as dead). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Resident memory of a process in MiB, from /proc/<pid>/status. */
export function residentMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`No VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** Live processes (not this one) whose command line mentions `needle`, with that command line. */
export function processesMentioning(needle: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    } catch {
      continue;
    }
    if (cmdline.includes(needle) && isRunning(pid)) found.push({ pid, cmdline });
  }
  return found;
}

/** SIGKILLs every live process mentioning `needle` (our own temp dir): the last line of cleanup. */
export function killEverythingMentioning(needle: string): number[] {
  const killed: number[] = [];
  for (const { pid } of processesMentioning(needle)) {
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}

/**
 * The end of a test whose sessions started daemons on `cacheDir` (no child of ours): stops
 * whatever daemon serves `<cacheDir>/runtimed.sock` now (SIGTERM, SIGKILL after `graceMs`),
 * kills everything left under the dir and removes it.
 */
export async function removeDaemonsOf(cacheDir: string, graceMs = 10_000): Promise<void> {
  for (const { pid } of processesMentioning(path.join(cacheDir, "runtimed.sock"))) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
    await waitFor(`daemon ${pid} to stop`, () => !isRunning(pid), graceMs).catch(() => process.kill(pid, "SIGKILL"));
  }
  killAndRemove(cacheDir);
}

/** Kills every process left under `dir` (kernels, an environment build), then removes the dir. */
function killAndRemove(dir: string): void {
  killEverythingMentioning(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A daemon running as its own process, as `runtimed daemon start` would run it. */
export interface DaemonProcess {
  readonly pid: number;
  readonly socketPath: string;
  readonly cacheDir: string;
  /** Resolves when the process exits, with its exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the daemon wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL, then waits for the process to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `lib/daemon/main.ts` under tsx as a separate process and waits until its socket
 * exists. `env` is merged over this process's environment.
 */
export async function spawnDaemonProcess(cacheDir: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const socketPath = path.join(cacheDir, "runtimed.sock");
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", require.resolve("tsx"), path.join(REPO_ROOT, "lib", "daemon", "main.ts"), "--socket", socketPath, "--cache-dir", cacheDir],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("The daemon process did not start");
  const daemon: DaemonProcess = {
    pid,
    socketPath,
    cacheDir,
    exited,
    stderr: () => stderr,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await within(`daemon ${pid} to die`, exited, 10_000);
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor(`daemon ${pid} to listen on ${socketPath}`, () => fs.existsSync(path.join(cacheDir, "daemon.json")) || child.exitCode !== null, 90_000);
    if (child.exitCode !== null) throw new Error(`The daemon exited with ${child.exitCode}: ${stderr}`);
  } catch (error) {
    await daemon.kill9();
    throw error;
  }
  return daemon;
}

/**
 * The end of a test that spawned `daemon` on `cacheDir`: stops it, kills whatever is left under
 * the dir (its kernels, an environment build) and removes the dir. Either may be undefined when
 * the setup failed before it was made.
 */
export async function removeDaemonProcess(daemon: DaemonProcess | undefined, cacheDir: string | undefined): Promise<void> {
  await daemon?.stop();
  if (cacheDir !== undefined) killAndRemove(cacheDir);
}

/** The daemon's advertisement, `<cache>/daemon.json`. */
export function readDaemonInfo(cacheDir: string): DaemonInfo {
  return JSON.parse(fs.readFileSync(path.join(cacheDir, "daemon.json"), "utf8")) as DaemonInfo;
}
