import * as fs from "node:fs";
import * as path from "node:path";
import { filter, firstValueFrom, lastValueFrom } from "rxjs";
import { toResult } from "../../lib/session/operators";
import { Session } from "../../lib/session/session";
import { recordStates } from "./connection-states";
import { NO_PREWARMING, useEnv } from "./environment";
import {
  isRunning,
  makeTempDir,
  processesMentioning,
  readDaemonInfo,
  removeDaemonsOf,
  spawnDaemonProcess,
  waitFor,
  within,
  type DaemonProcess,
} from "./processes";

jest.setTimeout(90_000);

// Daemons started by sessions inherit this process's environment: no prewarming, these tests
// run no code and a kernel or venv per daemon would only cost time.
useEnv(NO_PREWARMING);

/** Edits one session's own cells in a loop until stopped; remembers each cell's last source. */
function editLoop(session: Session, label: string) {
  const sources = new Map<string, string>();
  let stopped = false;
  let round = 0;
  const done = (async () => {
    while (!stopped) {
      round++;
      if (round % 3 === 1) {
        const source = `${label} cell ${round}`;
        sources.set(session.createCell(source), source);
      } else {
        const ids = [...sources.keys()];
        const id = ids[round % ids.length]!;
        const source = `${label} edit ${round} of ${id.slice(5, 13)}`;
        session.setSource(id, source);
        sources.set(id, source);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    sources,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

describe("a daemon killed with SIGKILL while two sessions edit", () => {
  it("both sessions reconnect to a daemon they restart themselves, keep every flushed change and create no duplicate cell", async () => {
    const cacheDir = makeTempDir("kill9");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const notebookId = "killed-while-editing";
    let first: DaemonProcess | undefined;
    const sessions: Session[] = [];
    const loops: { stop(): Promise<void> }[] = [];
    try {
      first = await spawnDaemonProcess(cacheDir, NO_PREWARMING);
      const alice = new Session({ notebookId, socketPath, cacheDir, autoStart: true });
      const bob = new Session({ notebookId, socketPath, cacheDir, autoStart: true });
      sessions.push(alice, bob);
      const aliceStates = recordStates(alice);
      const bobStates = recordStates(bob);
      await Promise.all([alice.connect(), bob.connect()]);

      const aliceEdits = editLoop(alice, "alice");
      const bobEdits = editLoop(bob, "bob");
      loops.push(aliceEdits, bobEdits);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // What each flush acknowledged: the daemon held these before it died.
      await Promise.all([alice.flush(), bob.flush()]);
      const acknowledged = new Map([...aliceEdits.sources, ...bobEdits.sources]);
      expect(acknowledged.size).toBeGreaterThanOrEqual(4);

      await first.kill9();
      expect(isRunning(first.pid)).toBe(false);
      // Keep editing while the daemon is gone: local-first, these must arrive after the restart.
      await waitFor("both sessions to notice the dead daemon", () => aliceStates.includes("reconnecting") && bobStates.includes("reconnecting"), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await waitFor("both sessions to reconnect", () => alice.isConnected && bob.isConnected, 45_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await Promise.all([aliceEdits.stop(), bobEdits.stop()]);
      await within("flush and sync after the restart", Promise.all([alice.flush(), bob.flush()]).then(() => Promise.all([alice.sync(), bob.sync()])), 20_000);
      await within("a second sync", Promise.all([alice.sync(), bob.sync()]), 20_000);

      const restarted = readDaemonInfo(cacheDir);
      expect(restarted.pid).not.toBe(first.pid);
      expect(restarted.endpoint).toBe(socketPath);
      expect(processesMentioning(socketPath).map((p) => p.pid)).toEqual([restarted.pid]);

      for (const states of [aliceStates, bobStates]) {
        const lost = states.indexOf("reconnecting");
        expect(states.slice(0, lost)).toContain("connected");
        expect(states.slice(lost)).toContain("connected");
      }
      const cells = alice.getCells();
      expect(bob.getCells()).toEqual(cells);
      const ids = cells.map((cell) => cell.id);
      expect(new Set(ids).size).toBe(ids.length);
      const bySource = new Map(cells.map((cell) => [cell.id, cell.source]));
      for (const id of acknowledged.keys()) expect(bySource.has(id)).toBe(true);
      // Every cell ends with the last source its author wrote, flushed before the kill or not.
      const expected = new Map([...aliceEdits.sources, ...bobEdits.sources]);
      expect(cells.length).toBe(expected.size);
      for (const [id, source] of expected) expect(bySource.get(id)).toBe(source);

      // A newcomer reads the same notebook from the restarted daemon.
      const carol = new Session({ notebookId, socketPath, cacheDir, autoStart: false });
      sessions.push(carol);
      await carol.connect();
      await carol.sync();
      expect(carol.getCells()).toEqual(cells);
      process.stdout.write(
        `kill -9: ${acknowledged.size} cells acknowledged before the kill, ${expected.size} after; alice ${aliceStates.join(">")}; bob ${bobStates.join(">")}\n`,
      );
    } finally {
      await Promise.all(loops.map((loop) => loop.stop()));
      await Promise.all(sessions.map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
      await first?.kill9();
      await removeDaemonsOf(cacheDir);
    }
  });
});

describe("a daemon killed with SIGKILL while a cell runs", () => {
  it("the execution ends with a KERNEL_DIED result once the session is back, not at its timeout", async () => {
    const cacheDir = makeTempDir("kill9-running");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    let first: DaemonProcess | undefined;
    const session = new Session({ notebookId: "killed-while-running", socketPath, cacheDir, autoStart: true });
    try {
      first = await spawnDaemonProcess(cacheDir, NO_PREWARMING);
      const cellId = session.createCell("import time\nprint('running', flush=True)\nfor _ in range(1200):\n    time.sleep(0.05)");
      const result = lastValueFrom(session.execute(cellId, { timeoutSecs: 120 }).pipe(toResult()));
      await within("the cell to start printing", firstValueFrom(session.events$.pipe(filter((event) => event.type === "output"))), 60_000);
      await first.kill9();
      const killedAt = Date.now();
      const ended = await within("the execution to end after the restart", result, 60_000);
      expect(ended.success).toBe(false);
      expect(ended.error).toMatchObject({ ename: "KERNEL_DIED" });
      expect(ended.error?.evalue).toMatch(/daemon restarted/);
      process.stdout.write(`kill -9 during a run: result ${Date.now() - killedAt} ms after the kill\n`);
    } finally {
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      await first?.kill9();
      await removeDaemonsOf(cacheDir);
    }
  });
});

describe("sessions racing to start a daemon", () => {
  /** Connects two autoStart sessions at once, checks exactly one daemon serves them, stops it. */
  async function raceTwoSessions(cacheDir: string, label: string): Promise<number> {
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const sessions = [0, 1].map((n) => new Session({ notebookId: `race-${label}-${n}`, socketPath, cacheDir, autoStart: true }));
    try {
      await within("both sessions to connect", Promise.all(sessions.map((session) => session.connect())), 45_000);
      const info = readDaemonInfo(cacheDir);
      // Spawned daemons that lost the lock exit on their own; give them a moment.
      await waitFor("losing daemons to exit", () => processesMentioning(socketPath).length === 1, 10_000).catch(() => undefined);
      expect(processesMentioning(socketPath).map((p) => p.pid)).toEqual([info.pid]);
      for (const session of sessions) {
        const id = session.createCell(`# written by ${session.notebookId}`);
        await session.flush();
        expect(session.getCell(id).source).toBe(`# written by ${session.notebookId}`);
      }
      return info.pid;
    } finally {
      await Promise.all(sessions.map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
    }
  }

  it("two sessions connecting at once to a dead socket in a fresh cache dir spawn exactly one daemon", async () => {
    for (let round = 0; round < 3; round++) {
      const cacheDir = makeTempDir(`race-fresh-${round}`);
      const socketPath = path.join(cacheDir, "runtimed.sock");
      try {
        const pid = await raceTwoSessions(cacheDir, `fresh${round}`);
        process.kill(pid, "SIGTERM");
        await waitFor(`daemon ${pid} to stop`, () => !isRunning(pid), 10_000);
        expect(fs.existsSync(socketPath)).toBe(false);
      } finally {
        await removeDaemonsOf(cacheDir);
      }
    }
  });

  it("two sessions connecting at once after a SIGKILL left a stale lock and socket spawn exactly one daemon", async () => {
    const cacheDir = makeTempDir("race-stale");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    try {
      for (let round = 0; round < 3; round++) {
        const pid = readDaemonInfoOrNull(cacheDir)?.pid ?? (await spawnDaemonProcess(cacheDir, NO_PREWARMING)).pid;
        process.kill(pid, "SIGKILL");
        await waitFor(`daemon ${pid} to die`, () => !isRunning(pid), 10_000);
        expect(fs.existsSync(path.join(cacheDir, "daemon.lock"))).toBe(true);
        expect(fs.existsSync(socketPath)).toBe(true);
        const winner = await raceTwoSessions(cacheDir, `stale${round}`);
        expect(winner).not.toBe(pid);
      }
    } finally {
      await removeDaemonsOf(cacheDir);
    }
  });
});

function readDaemonInfoOrNull(cacheDir: string): { pid: number } | null {
  try {
    return readDaemonInfo(cacheDir);
  } catch {
    return null;
  }
}
