/**
 * Issue 9, item 3: an explicit stop stays stopped. A user's sessions started the daemon
 * themselves (autoStart); `runtimed daemon stop` or `DaemonClient.shutdown()` stops it while they
 * work. Their connections end in "stopped" and nothing brings the daemon back until a session
 * calls `connect()`. The contrast: a crash is no stop on purpose, and sessions restart the daemon
 * (below), as after kill -9 (daemon-kill.spec.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { filter, firstValueFrom, lastValueFrom } from "rxjs";
import { RuntimedError } from "../../lib/protocol/errors";
import { toResult } from "../../lib/session/operators";
import { Session } from "../../lib/session/session";
import { DaemonClient } from "../../lib/transport/daemon-client";
import { runCli, startCli, stopCli, type RunningCli } from "../cli/cli-process";
import { recordStates } from "./connection-states";
import { NO_PREWARMING, useEnv } from "./environment";
import { IPYKERNEL_ARGV, installKernelSpec, useJupyterPath } from "./kernelspecs";
import {
  isRunning,
  makeTempDir,
  processesMentioning,
  readDaemonInfo,
  removeDaemonProcess,
  removeDaemonsOf,
  spawnDaemonProcess,
  waitFor,
  within,
  type DaemonProcess,
} from "./processes";

jest.setTimeout(150_000);

const KERNEL = "explicit-stop-python";
/** How long nothing may bring the daemon back after the stop. */
const STAYS_STOPPED_MS = 4000;

// Daemons the sessions start inherit this process's environment: no prewarming (these tests
// run their cells on a kernelspec of Debian's Python, no environment to build).
useEnv(NO_PREWARMING);
let jupyterPath: string;
let restoreJupyterPath: () => void;
beforeAll(() => {
  jupyterPath = makeTempDir("stop-jupyter");
  installKernelSpec(jupyterPath, KERNEL, IPYKERNEL_ARGV);
  restoreJupyterPath = useJupyterPath(jupyterPath);
});
afterAll(() => {
  restoreJupyterPath();
  fs.rmSync(jupyterPath, { recursive: true, force: true });
});

/**
 * Two sessions in two rooms of a daemon they started; one runs a long cell. `stop` stops the
 * daemon on purpose; then everything the issue asks of an explicit stop is checked.
 */
async function stopWhileSessionsWork(label: string, stop: (socketPath: string, cacheDir: string) => Promise<void>): Promise<void> {
  const cacheDir = makeTempDir(`stop-${label}`);
  const socketPath = path.join(cacheDir, "runtimed.sock");
  const runner = new Session({ notebookId: `${label}-runner`, socketPath, cacheDir, autoStart: true });
  const editor = new Session({ notebookId: `${label}-editor`, socketPath, cacheDir, autoStart: true });
  try {
    const runnerStates = recordStates(runner);
    const editorStates = recordStates(editor);
    await within("the sessions to start a daemon and connect", Promise.all([runner.connect(), editor.connect()]), 60_000);
    const first = readDaemonInfo(cacheDir);
    const note = editor.createCell("# written before the stop");
    await editor.flush();

    await within("the kernel to start", runner.startKernel({ kernelType: KERNEL }), 60_000);
    const cellId = runner.createCell("import time\nprint('running', flush=True)\ntime.sleep(600)");
    const result = lastValueFrom(runner.execute(cellId, { timeoutSecs: 300 }).pipe(toResult()));
    await within("the cell to start printing", firstValueFrom(runner.events$.pipe(filter((event) => event.type === "output"))), 60_000);
    const runnerBefore = runnerStates.length;
    const editorBefore = editorStates.length;

    await stop(socketPath, cacheDir);

    // The running cell ends with an error result: the daemon said how it ended before it went.
    const ended = await within("the running execution to end", result, 30_000);
    expect(ended.success).toBe(false);
    expect(ended.error).not.toBeNull();
    // Both sessions end stopped, and neither connects again on its own.
    await waitFor("both sessions to be stopped", () => runnerStates.at(-1) === "stopped" && editorStates.at(-1) === "stopped", 20_000);
    await new Promise((resolve) => setTimeout(resolve, STAYS_STOPPED_MS));
    for (const states of [runnerStates.slice(runnerBefore), editorStates.slice(editorBefore)]) {
      expect(states.at(-1)).toBe("stopped");
      expect(states).not.toContain("connected");
      expect(states).not.toContain("reconnecting");
    }
    expect(isRunning(first.pid)).toBe(false);
    expect(processesMentioning(socketPath)).toEqual([]);
    expect(await new DaemonClient({ socketPath }).isRunning()).toBe(false);

    // Requests fail at once, saying why and what to do.
    const refused = await within("a flush after the stop", editor.flush().then(() => null, (error: unknown) => error), 10_000);
    expect(refused).toBeInstanceOf(RuntimedError);
    expect((refused as RuntimedError).code).toBe("DAEMON_UNAVAILABLE");
    expect((refused as RuntimedError).message).toMatch(/stopped on purpose.*connect\(\)/);
    expect(await new DaemonClient({ socketPath }).isRunning()).toBe(false);

    // An explicit connect() starts a daemon again, and the notebook is still there.
    await within("connect() after the stop", editor.connect(), 60_000);
    const second = readDaemonInfo(cacheDir);
    expect(second.pid).not.toBe(first.pid);
    expect(editorStates.at(-1)).toBe("connected");
    await editor.sync();
    expect(editor.getCell(note).source).toBe("# written before the stop");
    editor.setSource(note, "# written after the restart");
    await within("a flush after connect()", editor.flush(), 20_000);
    process.stdout.write(`explicit stop (${label}): runner ${runnerStates.join(">")}; editor ${editorStates.join(">")}\n`);
  } finally {
    await Promise.all([runner, editor].map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
    await removeDaemonsOf(cacheDir);
  }
}

describe("a daemon stopped on purpose while sessions work", () => {
  it("`runtimed daemon stop`: the running cell ends with an error, the sessions end stopped and do not respawn it, requests say it was stopped on purpose, and connect() starts it again", async () => {
    await stopWhileSessionsWork("cli", async (socketPath, cacheDir) => {
      const stopped = await runCli(["daemon", "stop", "--socket", socketPath, "--cache-dir", cacheDir], { timeoutMs: 60_000 });
      expect(stopped.exitCode).toBe(0);
      expect(stopped.stdout).toMatch(/runtimed daemon stopped/);
    });
  });

  it("`DaemonClient.shutdown()`: the same, through the SDK", async () => {
    await stopWhileSessionsWork("client", async (socketPath) => {
      const client = new DaemonClient({ socketPath });
      await within("shutdown()", client.shutdown(), 20_000);
    });
  });
});

/** Keeps this process's event loop busy (no socket is read) until `until()` holds, for at most `maxMs`. */
function busyUntil(until: () => boolean, maxMs: number): void {
  const deadline = Date.now() + maxMs;
  while (!until() && Date.now() < deadline) {
    // a client too busy to read
  }
}

describe("a daemon stopped on purpose while a session is too busy to read", () => {
  it("the session still learns the stop was on purpose (it does not restart the daemon) and its running cell ends with an error", async () => {
    const cacheDir = makeTempDir("stop-busy");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const session = new Session({ notebookId: "busy-reader", socketPath, cacheDir, autoStart: true });
    let stopping: RunningCli | undefined;
    try {
      const states = recordStates(session);
      await within("the session to start a daemon and connect", session.connect(), 60_000);
      const first = readDaemonInfo(cacheDir);
      await within("the kernel to start", session.startKernel({ kernelType: KERNEL }), 60_000);
      // Prints far faster than a busy client reads: the daemon holds megabytes for it.
      const cellId = session.createCell("import sys\nwhile True:\n    sys.stdout.write('x' * 65536 + '\\n')\n    sys.stdout.flush()");
      const result = lastValueFrom(session.execute(cellId, { timeoutSecs: 300 }).pipe(toResult()));
      await within("the cell to start printing", firstValueFrom(session.events$.pipe(filter((event) => event.type === "output"))), 60_000);
      const before = states.length;

      stopping = startCli(["daemon", "stop", "--socket", socketPath, "--cache-dir", cacheDir]);
      // Busy while the daemon stops, and for longer than a daemon used to wait for a client
      // that did not read: the stop notice is behind megabytes of output.
      const log = path.join(cacheDir, "daemon.log");
      busyUntil(() => fs.readFileSync(log, "utf8").includes("daemon stopping"), 60_000);
      busyUntil(() => false, 2500);

      const ended = await within("the running execution to end", result, 30_000);
      expect(ended.success).toBe(false);
      expect(ended.error?.ename).toBe("CLOSED");
      const stopped = await within("`runtimed daemon stop`", stopping.exited, 60_000);
      expect(stopped.exitCode).toBe(0);
      await waitFor("the session to be stopped", () => states.at(-1) === "stopped", 20_000).catch((error: Error) => {
        throw new Error(`${error.message}; its states since the stop: ${states.slice(before).join(">") || "none"}`);
      });
      await new Promise((resolve) => setTimeout(resolve, STAYS_STOPPED_MS));
      // Read in time, the notice stops it at once; cut off before that (a loaded machine), the
      // daemon's stop mark stops its first reconnect. It never connects again by itself.
      expect([["stopped"], ["reconnecting", "stopped"]]).toContainEqual(states.slice(before));
      expect(isRunning(first.pid)).toBe(false);
      expect(processesMentioning(socketPath)).toEqual([]);
    } finally {
      if (stopping) await stopCli(stopping);
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      await removeDaemonsOf(cacheDir);
    }
  });
});

describe("a session that missed the stop notice", () => {
  it("learns of the stop from the mark the daemon left, starts no daemon, and a later connect() starts one (which removes the mark)", async () => {
    const cacheDir = makeTempDir("stop-missed");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const session = new Session({ notebookId: "missed-the-notice", socketPath, cacheDir, autoStart: true });
    let first: DaemonProcess | undefined;
    try {
      first = await spawnDaemonProcess(cacheDir);
      const states = recordStates(session);
      await within("the session to connect", session.connect(), 30_000);
      const cellId = session.createCell("# before the stop");
      await session.flush();
      const before = states.length;

      // A stop whose notice never reached this client: the mark of a stop on purpose, then the
      // connection gone without a word (as when a stopping daemon cuts off a client that did
      // not read in time).
      const mark = path.join(cacheDir, "daemon.stopped");
      fs.writeFileSync(mark, JSON.stringify({ endpoint: socketPath, pid: first.pid, stopped_at: new Date().toISOString() }));
      await first.kill9();
      await waitFor("the session to be stopped", () => states.at(-1) === "stopped", 30_000);
      await new Promise((resolve) => setTimeout(resolve, STAYS_STOPPED_MS));
      expect(states.slice(before)).toEqual(["reconnecting", "stopped"]);
      expect(fs.existsSync(path.join(cacheDir, "daemon.json")) && isRunning(readDaemonInfo(cacheDir).pid)).toBe(false);
      await expect(session.flush()).rejects.toBeInstanceOf(RuntimedError);

      await within("connect() after the stop", session.connect(), 30_000);
      expect(fs.existsSync(mark)).toBe(false);
      expect(session.getCell(cellId).source).toBe("# before the stop");
    } finally {
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      await first?.kill9();
      await removeDaemonsOf(cacheDir);
    }
  });

  it("a daemon stopped on purpose leaves the mark, and one started after it removes the mark", async () => {
    const cacheDir = makeTempDir("stop-mark");
    let daemon: DaemonProcess | undefined;
    try {
      daemon = await spawnDaemonProcess(cacheDir);
      const mark = path.join(cacheDir, "daemon.stopped");
      expect(fs.existsSync(mark)).toBe(false);
      const stopped = await runCli(["daemon", "stop", "--socket", daemon.socketPath, "--cache-dir", cacheDir], { timeoutMs: 60_000 });
      expect(stopped.exitCode).toBe(0);
      expect(JSON.parse(fs.readFileSync(mark, "utf8"))).toMatchObject({ endpoint: daemon.socketPath, pid: daemon.pid });
      expect((fs.statSync(mark).mode & 0o777).toString(8)).toBe("600");
      await within("the stopped daemon to exit", daemon.exited, 30_000);
      daemon = await spawnDaemonProcess(cacheDir);
      expect(fs.existsSync(mark)).toBe(false);
    } finally {
      await removeDaemonProcess(daemon, cacheDir);
    }
  });
});

describe("a daemon that crashes while a session works", () => {
  it("is no stop on purpose: the session reconnects to a daemon it starts again, with the notebook intact", async () => {
    const cacheDir = makeTempDir("stop-crash");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const preload = path.join(__dirname, "fixtures", "crash-on-request.cjs");
    const session = new Session({ notebookId: "crashed-under-me", socketPath, cacheDir, autoStart: true });
    let first: DaemonProcess | undefined;
    try {
      first = await spawnDaemonProcess(cacheDir, { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${preload}`.trim() });
      const states = recordStates(session);
      await within("the session to connect", session.connect(), 30_000);
      const cellId = session.createCell("# before the crash");
      await session.flush();
      const before = states.length;

      fs.writeFileSync(path.join(cacheDir, "spec-crash-now"), "");
      expect(await within("the daemon to crash", first.exited, 30_000)).toEqual({ code: 1, signal: null });
      expect(fs.readFileSync(path.join(cacheDir, "daemon.log"), "utf8")).toMatch(/daemon crashed \(uncaughtException\)/);

      await waitFor("the session to reconnect", () => session.isConnected && states.length > before, 45_000);
      expect(states.slice(before)).not.toContain("stopped");
      expect(states.slice(before)).toContain("reconnecting");
      const restarted = readDaemonInfo(cacheDir);
      expect(restarted.pid).not.toBe(first.pid);
      expect(isRunning(restarted.pid)).toBe(true);
      session.setSource(cellId, "# after the crash");
      await within("a flush to the restarted daemon", session.flush(), 20_000);
      expect(session.getCell(cellId).source).toBe("# after the crash");
    } finally {
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      await first?.kill9();
      await removeDaemonsOf(cacheDir);
    }
  });
});
