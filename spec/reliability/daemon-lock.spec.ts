import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Daemon } from "../../lib/daemon/daemon";
import { DaemonLock } from "../../lib/daemon/daemon-lock";
import type { RuntimedError } from "../../lib/protocol/errors";
import { daemonFiles } from "../../lib/transport/paths";
import { DaemonClient } from "../../lib/transport/daemon-client";
import { expectCode, removeDir, startTestDaemon } from "../integration/harness";
import { isRunning, killEverythingMentioning, makeTempDir, readDaemonInfo, spawnDaemonProcess, waitFor, within } from "./processes";

jest.setTimeout(120_000);

const QUIET = { RUNTIMED_POOL_SIZE: "0", RUNTIMED_PREWARM_KERNEL: "0" };
const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A daemon process started without waiting for it: for races, where one of them must lose. */
function startRaw(cacheDir: string) {
  const child = spawn(
    process.execPath,
    ["--import", require.resolve("tsx"), path.join(REPO_ROOT, "lib", "daemon", "main.ts"), "--socket", path.join(cacheDir, "runtimed.sock"), "--cache-dir", cacheDir],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...QUIET } },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { pid: child.pid!, exited, stderr: () => stderr, kill: () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL") };
}

function expectDaemonRunning(start: Promise<unknown>): Promise<RuntimedError> {
  return expectCode(start, "DAEMON_RUNNING");
}

describe("the daemon lock", () => {
  it("a legacy daemon.lock file naming a live unrelated process (pid 1) does not block a spawned daemon", async () => {
    const cacheDir = makeTempDir("lock-legacy");
    try {
      fs.writeFileSync(path.join(cacheDir, "daemon.lock"), "1");
      expect(isRunning(1)).toBe(true);
      const daemon = await spawnDaemonProcess(cacheDir, QUIET);
      try {
        expect(readDaemonInfo(cacheDir).pid).toBe(daemon.pid);
        expect(fs.statSync(path.join(cacheDir, "daemon.lock")).isDirectory()).toBe(true);
        expect(await new DaemonClient({ socketPath: daemon.socketPath }).isRunning()).toBe(true);
      } finally {
        await daemon.stop();
      }
      expect(fs.existsSync(path.join(cacheDir, "daemon.lock"))).toBe(false);
    } finally {
      killEverythingMentioning(cacheDir);
      removeDir(cacheDir);
    }
  });

  it("a legacy daemon.lock file naming the starting process itself (the test runner) does not block an in-process daemon", async () => {
    const cacheDir = makeTempDir("lock-legacy-self");
    fs.writeFileSync(path.join(cacheDir, "daemon.lock"), String(process.pid));
    const room = await startTestDaemon({ cacheDir });
    try {
      const session = room.session({ notebookId: "legacy-self" });
      await session.connect();
      expect(session.isConnected).toBe(true);
    } finally {
      await room.dispose();
      removeDir(cacheDir);
    }
  });

  it("a lock left before a reboot, whose owner record names a pid now used by an unrelated live process, is taken over", async () => {
    const cacheDir = makeTempDir("lock-reboot");
    const files = daemonFiles(cacheDir);
    fs.mkdirSync(files.lock);
    fs.writeFileSync(`${files.lock}.owner`, JSON.stringify({ pid: 1, token: "before-the-reboot", socket: path.join(cacheDir, "runtimed.sock") }));
    const anHourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(files.lock, anHourAgo, anHourAgo);
    const room = await startTestDaemon({ cacheDir });
    try {
      expect(JSON.parse(fs.readFileSync(`${files.lock}.owner`, "utf8"))).toMatchObject({ pid: process.pid });
    } finally {
      await room.dispose();
      removeDir(cacheDir);
    }
  });

  it("a fresh lock whose owner is a live unrelated pid and answers nowhere is taken over once it stops being refreshed", async () => {
    const cacheDir = makeTempDir("lock-fresh-reused");
    const files = daemonFiles(cacheDir);
    fs.mkdirSync(files.lock);
    fs.writeFileSync(`${files.lock}.owner`, JSON.stringify({ pid: 1, token: "someone-else", socket: path.join(cacheDir, "runtimed.sock") }));
    const startedAt = Date.now();
    const lock = await within("the lock to be taken", DaemonLock.acquire(files, path.join(cacheDir, "runtimed.sock"), { staleMs: 2_000, updateMs: 1_000 }), 30_000);
    try {
      expect(lock.held).toBe(true);
      process.stdout.write(`fresh lock with a reused pid taken after ${Date.now() - startedAt} ms (stale after 2000 ms)\n`);
    } finally {
      await lock.close();
      removeDir(cacheDir);
    }
  });

  it("a lock held by a live daemon makes a second start fail with DAEMON_RUNNING naming its pid and socket, on the same socket or another", async () => {
    const room = await startTestDaemon();
    const otherSocket = path.join(room.cacheDir, "other.sock");
    try {
      const same = await expectDaemonRunning(Daemon.start({ cacheDir: room.cacheDir, socketPath: room.socketPath }));
      expect(same.message).toContain(`A runtimed daemon (pid ${process.pid}) already serves ${room.socketPath}`);
      expect(same.message).toContain("npx runtimed daemon stop");
      const other = await expectDaemonRunning(Daemon.start({ cacheDir: room.cacheDir, socketPath: otherSocket }));
      expect(other.message).toContain(`already serves ${room.socketPath} from the same cache dir as ${otherSocket}`);
      expect(fs.existsSync(otherSocket)).toBe(false);
      // The failed starts took nothing away from the daemon that serves.
      expect(await new DaemonClient({ socketPath: room.socketPath }).isRunning()).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(room.cacheDir, "daemon.lock.owner"), "utf8"))).toMatchObject({ socket: room.socketPath });
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("two daemons started at once serve exactly one of them, in a fresh cache dir and after a SIGKILL left the lock behind", async () => {
    const cacheDir = makeTempDir("lock-race");
    const started: ReturnType<typeof startRaw>[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        const pair = [startRaw(cacheDir), startRaw(cacheDir)];
        started.push(...pair);
        const loserCode = await within("one of the two to give up", Promise.race(pair.map((daemon) => daemon.exited)), 60_000);
        const loser = pair.find((daemon) => !isRunning(daemon.pid))!;
        const winner = pair.find((daemon) => daemon !== loser)!;
        expect(loserCode).toBe(1);
        expect(loser.stderr()).toContain("already serves");
        await waitFor("the winner to advertise itself", () => fs.existsSync(path.join(cacheDir, "daemon.json")), 30_000);
        expect(readDaemonInfo(cacheDir).pid).toBe(winner.pid);
        expect(await new DaemonClient({ socketPath: path.join(cacheDir, "runtimed.sock") }).isRunning()).toBe(true);
        // The next round races against the lock and socket this one leaves behind.
        winner.kill();
        await within("the winner to die", winner.exited, 10_000);
        expect(fs.existsSync(path.join(cacheDir, "daemon.lock"))).toBe(true);
      }
    } finally {
      for (const daemon of started) daemon.kill();
      killEverythingMentioning(cacheDir);
      removeDir(cacheDir);
    }
  });

  it("a daemon killed with SIGKILL is replaced by the next start without waiting for its lock to go stale", async () => {
    const cacheDir = makeTempDir("lock-kill9");
    try {
      const first = await spawnDaemonProcess(cacheDir, QUIET);
      await first.kill9();
      const files = daemonFiles(cacheDir);
      const startedAt = Date.now();
      // Acquired by this process (no process start in the measurement): the dead pid is proof enough.
      const lock = await within("the lock of a SIGKILLed daemon", DaemonLock.acquire(files, path.join(cacheDir, "runtimed.sock"), { staleMs: 60_000 }), 30_000);
      const tookMs = Date.now() - startedAt;
      await lock.close();
      process.stdout.write(`lock of a SIGKILLed daemon taken after ${tookMs} ms (stale after 60000 ms)\n`);
      // (spawnDaemonProcess returns at once here: the dead daemon's daemon.json is still there.)
      const second = await spawnDaemonProcess(cacheDir, QUIET);
      try {
        await waitFor("the new daemon to advertise itself", () => readDaemonInfo(cacheDir).pid === second.pid, 30_000);
        expect(await new DaemonClient({ socketPath: second.socketPath }).isRunning()).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      killEverythingMentioning(cacheDir);
      removeDir(cacheDir);
    }
  });

  it("a daemon whose lock is removed under it logs it, takes the lock back and keeps serving", async () => {
    const room = await startTestDaemon();
    const files = daemonFiles(room.cacheDir);
    try {
      fs.rmSync(`${files.lock}.owner`, { force: true });
      fs.rmSync(files.lock, { recursive: true, force: true });
      await waitFor("the lock to be taken back", () => fs.existsSync(`${files.lock}.owner`), 30_000);
      expect(fs.statSync(files.lock).isDirectory()).toBe(true);
      expect(fs.readFileSync(files.log, "utf8")).toMatch(/WARN daemon lock lost; taking it back[\s\S]*INFO daemon lock taken back/);
      await expectDaemonRunning(Daemon.start({ cacheDir: room.cacheDir, socketPath: room.socketPath }));
      const session = room.session({ notebookId: "after-lock-loss" });
      await session.connect();
      expect(session.isConnected).toBe(true);
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
    expect(fs.existsSync(files.lock)).toBe(false);
    expect(fs.existsSync(`${files.lock}.owner`)).toBe(false);
  });
});
