import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { daemonFiles, type DaemonInfo } from "../../lib/transport/paths";

const REPO_ROOT = path.join(__dirname, "..", "..");
const CLI_ENTRY = path.join(REPO_ROOT, "lib", "cli", "main.ts");

/** How a finished `runtimed` process ended and what it printed. */
export interface CliResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A `runtimed` process still running: its output so far, and ways to wait for and end it. */
export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr matches `pattern`; rejects after `timeoutMs` or if the process ends first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the process has exited. */
  exited: Promise<CliResult>;
}

/**
 * Starts the real `runtimed` entry (TypeScript, through tsx) as a child process. The environment
 * names no daemon of the machine: every test passes its own `--cache-dir` / `--socket`.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const cleanEnv = { ...process.env };
  delete cleanEnv.RUNTIMED_SOCKET_PATH;
  delete cleanEnv.RUNTIMED_CACHE_DIR;
  const child = spawn(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    listeners.forEach((listener) => listener());
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    listeners.forEach((listener) => listener());
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on("close", (exitCode, signal) => {
      listeners.forEach((listener) => listener());
      resolve({ exitCode, signal, stdout, stderr });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout) || pattern.test(stderr)) finish();
          else if (hasExited || child.exitCode !== null) finish(new Error(`runtimed ${args.join(" ")} exited before printing ${pattern}:\n${stdout}\n${stderr}`));
        };
        const timer = setTimeout(() => finish(new Error(`runtimed ${args.join(" ")} did not print ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`)), timeoutMs);
        const finish = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `runtimed` to completion; kills it (and fails) after `timeoutMs`. */
export async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const running = startCli(args, options.env);
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.child.kill("SIGKILL");
      reject(new Error(`runtimed ${args.join(" ")} did not finish within ${timeoutMs} ms:\n${running.stdout()}\n${running.stderr()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([running.exited, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ends a child `runtimed` process if it still runs, and waits for it. */
export async function stopCli(running: RunningCli): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill("SIGKILL");
  await running.exited;
}

/** True while the process exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills the daemon that `daemon.json` in `cacheDir` names, if it runs; for test cleanup. */
export async function killDaemonOf(cacheDir: string): Promise<void> {
  let info: DaemonInfo;
  try {
    info = JSON.parse(fs.readFileSync(daemonFiles(cacheDir).info, "utf8")) as DaemonInfo;
  } catch {
    return;
  }
  if (info.pid === process.pid || !processAlive(info.pid)) return;
  process.kill(info.pid, "SIGKILL");
  await waitUntil(() => !processAlive(info.pid), 10_000);
}

/** Polls `condition` until it holds; rejects after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
