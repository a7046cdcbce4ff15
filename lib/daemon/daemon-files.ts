import * as fs from "node:fs";
import * as net from "node:net";
import { RuntimedError } from "../protocol/errors";
import type { daemonFiles, DaemonInfo } from "../protocol/paths";

type Files = ReturnType<typeof daemonFiles>;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when something accepts connections at the socket. */
export function socketAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Takes the daemon lock for a cache dir: exactly one process wins, even when several start at
 * once. A lock left by a dead process is taken over; a live owner is a DAEMON_RUNNING error.
 */
export async function acquireLock(files: Files, socketPath: string): Promise<void> {
  let tookOver = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(files.lock, "wx", 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      if (tookOver) await confirmLock(files, socketPath);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number.parseInt(readOr(files.lock, ""), 10);
    if (Number.isInteger(owner) && (owner === process.pid || processAlive(owner))) throw alreadyServing(owner, socketPath);
    fs.rmSync(files.lock, { force: true });
    tookOver = true;
  }
  throw new RuntimedError("DAEMON_RUNNING", `Could not take the daemon lock ${files.lock}`);
}

// Two starters that both found the same dead owner may both remove "its" lock, the second
// removing the first's fresh one. Whoever's lock is gone a moment later lost the race.
async function confirmLock(files: Files, socketPath: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const owner = Number.parseInt(readOr(files.lock, ""), 10);
  if (owner !== process.pid) throw alreadyServing(owner, socketPath);
}

function alreadyServing(owner: number, socketPath: string): RuntimedError {
  return new RuntimedError(
    "DAEMON_RUNNING",
    `A runtimed daemon (pid ${owner}) already serves ${socketPath}; stop it with \`npx runtimed daemon stop\` or use another RUNTIMED_SOCKET_PATH`,
  );
}

/** Removes a socket nobody answers on, so a new daemon can listen there. */
export async function clearStaleSocket(socketPath: string): Promise<void> {
  if (!fs.existsSync(socketPath)) return;
  if (await socketAnswers(socketPath)) {
    throw new RuntimedError("DAEMON_RUNNING", `Another process already serves ${socketPath}; stop it with \`npx runtimed daemon stop\` or use another RUNTIMED_SOCKET_PATH`);
  }
  fs.rmSync(socketPath, { force: true });
}

/**
 * Writes `daemon.json` whole or not at all, 0600 (it holds the network face's token): a fresh
 * temp file renamed over the old one, so an old file's looser mode never carries over.
 */
export function writeDaemonInfo(files: Files, info: DaemonInfo): void {
  const temp = `${files.info}.${process.pid}.tmp`;
  fs.rmSync(temp, { force: true });
  fs.writeFileSync(temp, JSON.stringify(info, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, files.info);
}

/** Removes what this daemon advertised, only if it is still this daemon's. */
export function removeDaemonFiles(files: Files, socketPath: string): void {
  if (readOr(files.lock, "") === String(process.pid)) {
    fs.rmSync(socketPath, { force: true });
    try {
      const info = JSON.parse(readOr(files.info, "{}")) as { pid?: number };
      if (info.pid === process.pid) fs.rmSync(files.info, { force: true });
    } catch {
      // not ours to remove
    }
    fs.rmSync(files.lock, { force: true });
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}
