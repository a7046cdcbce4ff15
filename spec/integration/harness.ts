import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Daemon } from "../../lib/daemon/daemon";
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

/** Starts an in-process daemon for one test file. */
export async function startTestDaemon(options: { cacheDir?: string } = {}): Promise<TestRoom> {
  const cacheDir = options.cacheDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-test-"));
  const socketPath = path.join(cacheDir, "runtimed.sock");
  const daemon = await Daemon.start({ cacheDir, socketPath, saveDelayMs: 50 });
  const sessions: Session[] = [];
  let disposed = false;
  return {
    daemon,
    cacheDir,
    socketPath,
    session(sessionOptions: SessionOptions = {}) {
      const session = new Session({ socketPath, cacheDir, autoStart: false, ...sessionOptions });
      sessions.push(session);
      return session;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all(sessions.map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
      await daemon.stop();
    },
  };
}

/** Removes a temp cache dir. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
