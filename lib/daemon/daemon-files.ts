import * as fs from "node:fs";
import * as net from "node:net";
import { RuntimedError } from "../protocol/errors";
import type { daemonFiles, DaemonInfo } from "../transport/paths";

type Files = ReturnType<typeof daemonFiles>;

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

/**
 * Removes what this daemon advertised: the socket, while it still holds the cache dir's lock
 * (otherwise it may be another daemon's by now), and daemon.json if it names this process.
 */
export function removeDaemonFiles(files: Files, socketPath: string, holdsLock: boolean): void {
  if (holdsLock) fs.rmSync(socketPath, { force: true });
  try {
    const info = JSON.parse(readOr(files.info, "{}")) as { pid?: number; endpoint?: string };
    if (info.pid === process.pid && info.endpoint === socketPath) fs.rmSync(files.info, { force: true });
  } catch {
    // not ours to remove
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}
