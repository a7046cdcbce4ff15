import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { RuntimedError } from "../protocol/errors";
import { daemonFiles, defaultCacheDir } from "./paths";

/** How to run the daemon entry point from wherever this module was loaded. */
function daemonCommand(): string[] {
  // From dist/ (the published package) the compiled entry sits beside us; from the sources
  // (tests, examples run with tsx) we run the TypeScript entry through tsx.
  const compiled = path.join(__dirname, "..", "daemon", "main.js");
  if (fs.existsSync(compiled)) return [process.execPath, compiled];
  const source = path.join(__dirname, "..", "daemon", "main.ts");
  return [process.execPath, "--import", require.resolve("tsx"), source];
}

/**
 * Starts a daemon detached from this process, for `socketPath` and `cacheDir`. Several callers
 * may race here: the daemon lock lets exactly one of the spawned daemons serve. `extra` adds
 * arguments for its entry point (`--host H`, `--port P`, `--allow-origin O`, `--gateway-url U`)
 * and environment variables (a gateway token, kept off the command line).
 */
export function spawnDaemon(
  socketPath: string,
  cacheDir: string = defaultCacheDir(),
  extra: { args?: readonly string[]; env?: Record<string, string> } = {},
): { pid: number; stderrFile: string } {
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const stderrFile = path.join(daemonFiles(cacheDir).cacheDir, `daemon-start-${process.pid}-${Date.now()}.err`);
  const stderr = fs.openSync(stderrFile, "w", 0o600);
  const [command, ...args] = daemonCommand();
  const child = spawn(command!, [...args, "--socket", socketPath, "--cache-dir", cacheDir, ...(extra.args ?? [])], {
    detached: true,
    stdio: ["ignore", "ignore", stderr],
    env: { ...process.env, ...extra.env, RUNTIMED_SOCKET_PATH: socketPath, RUNTIMED_CACHE_DIR: cacheDir },
  });
  fs.closeSync(stderr);
  child.unref();
  return { pid: child.pid ?? -1, stderrFile };
}

/** Reads what a spawned daemon printed before it exited, then removes the file. */
export function takeStartError(stderrFile: string): string {
  try {
    const text = fs.readFileSync(stderrFile, "utf8").trim();
    fs.rmSync(stderrFile, { force: true });
    return text;
  } catch {
    return "";
  }
}

/** True while the process exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The error when a daemon could not be started. */
export function startFailed(socketPath: string, detail: string): RuntimedError {
  return new RuntimedError(
    "DAEMON_UNAVAILABLE",
    `Could not start a runtimed daemon at ${socketPath}${detail ? `: ${detail}` : ""}; see the daemon log or run \`npx runtimed daemon start --foreground\``,
  );
}
