import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Daemon, type DaemonOptions } from "../../lib/daemon/daemon";
import { Session, type SessionOptions } from "../../lib/session/session";

/** A daemon on a temp socket and temp cache dir, and the sessions a test opened on it. */
export interface TestRoom {
  daemon: Daemon;
  cacheDir: string;
  socketPath: string;
  session(options?: SessionOptions): Session;
  /** Stops the daemon (kernels included) and closes every session; safe to call twice. */
  dispose(): Promise<void>;
}

/** Starts an in-process daemon for one test file; `options` tune it (a temp cache dir by default). */
export async function startTestDaemon(options: Omit<DaemonOptions, "socketPath"> = {}): Promise<TestRoom> {
  const cacheDir = options.cacheDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-test-"));
  const socketPath = path.join(cacheDir, "runtimed.sock");
  // No gateway unless a spec asks: a developer's JUPYTER_GATEWAY_URL must not take the suite's kernels elsewhere.
  const daemon = await Daemon.start({ saveDelayMs: 50, gateway: false, ...options, cacheDir, socketPath });
  const sessions: Session[] = [];
  let disposed = false;
  return {
    daemon,
    cacheDir,
    socketPath,
    session(sessionOptions: SessionOptions = {}) {
      // RUNTIMED_TEST_TRANSPORT=websocket: the same specs over the daemon's network face.
      const where = overWebSocket() ? { url: daemon.status().url, token: daemon.status().token } : { socketPath, cacheDir, autoStart: false };
      const session = new Session({ ...where, ...sessionOptions });
      sessions.push(session);
      return session;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all(sessions.map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
      await daemon.stop();
      reportKernelTrouble(cacheDir);
    },
  };
}

/** Log lines that mean kernels could not be had: shown with the test output, so a failing run says why. */
const KERNEL_TROUBLE = /could not start|could not prewarm|prewarmed kernel died|pool did not start/;

function reportKernelTrouble(cacheDir: string): void {
  let log: string;
  try {
    log = fs.readFileSync(path.join(cacheDir, "daemon.log"), "utf8");
  } catch {
    return;
  }
  const trouble = log.split("\n").filter((line) => KERNEL_TROUBLE.test(line));
  if (trouble.length > 0) console.warn(`test daemon ${cacheDir} could not always start kernels:\n${trouble.slice(0, 20).join("\n")}`);
}

/** Whether the harness's sessions speak over the daemon's WebSocket instead of its Unix socket. */
export function overWebSocket(): boolean {
  return process.env.RUNTIMED_TEST_TRANSPORT === "websocket";
}

/** Removes a temp cache dir. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * One in-process daemon for a whole spec file: started before its tests, stopped (kernels
 * included) and removed after them. Use the returned getter inside tests.
 */
export function useTestDaemon(): () => TestRoom {
  let room: TestRoom | undefined;
  beforeAll(async () => {
    room = await startTestDaemon();
  });
  afterAll(async () => {
    await room?.dispose();
    if (room) removeDir(room.cacheDir);
  });
  return () => {
    if (!room) throw new Error("the test daemon is not running (useTestDaemon() must be called at the top of a spec file)");
    return room;
  };
}

export { expectCode } from "../expect-code";

/** Runs a TypeScript file with tsx as a user would, against `room`'s daemon. */
export function runTsFile(file: string, room: TestRoom, timeoutMs = 150_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", require.resolve("tsx"), file], {
      env: { ...process.env, RUNTIMED_SOCKET_PATH: room.socketPath, RUNTIMED_CACHE_DIR: room.cacheDir },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
