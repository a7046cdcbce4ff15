/**
 * Issue 9, item 5: calls made while the daemon is gone (killed with SIGKILL) wait for the
 * session to reconnect, each bounded by its own timeout, instead of failing with
 * DAEMON_UNAVAILABLE: `flush()`, `sync()`, `executeCell`, kernel requests.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Session } from "../../lib/session/session";
import { expectCode } from "../integration/harness";
import { recordStates } from "./connection-states";
import { NO_PREWARMING, useEnv } from "./environment";
import { isRunning, makeTempDir, readDaemonInfo, removeDaemonsOf, spawnDaemonProcess, waitFor, within, type DaemonProcess } from "./processes";

jest.setTimeout(240_000);

// Daemons the sessions start inherit this process's environment: no prewarming.
useEnv(NO_PREWARMING);

/** SIGKILLs the daemon `daemon.json` names and waits until it is gone. */
async function killDaemon(cacheDir: string): Promise<number> {
  const { pid } = readDaemonInfo(cacheDir);
  process.kill(pid, "SIGKILL");
  await waitFor(`daemon ${pid} to die`, () => !isRunning(pid), 10_000);
  return pid;
}

/** Settles every call; fails naming each one that rejected, with its error. */
async function allFulfilled<T extends Record<string, Promise<unknown>>>(calls: T, ms: number): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const names = Object.keys(calls);
  const settled = await within(`${names.join(", ")}`, Promise.allSettled(Object.values(calls)), ms);
  const failures = settled.flatMap((outcome, i) => (outcome.status === "rejected" ? [`${names[i]}: ${String(outcome.reason)}`] : []));
  expect(failures).toEqual([]);
  return Object.fromEntries(settled.map((outcome, i) => [names[i], (outcome as PromiseFulfilledResult<unknown>).value])) as { [K in keyof T]: Awaited<T[K]> };
}

describe("calls made while the daemon a session started is down after kill -9", () => {
  it("flush(), sync(), executeCell and kernelInfo() resolve once the session has restarted the daemon and reconnected; a second session sees the edits", async () => {
    const cacheDir = makeTempDir("outage");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const notebookId = "flush-during-outage";
    const alice = new Session({ notebookId, socketPath, cacheDir, autoStart: true });
    const sessions = [alice];
    try {
      const states = recordStates(alice);
      await within("the session to start a daemon", alice.connect(), 60_000);
      const cellId = alice.createCell("a = 1");
      await alice.flush();

      // At once, before the session has noticed: the requests go out on a dead connection.
      const first = await killDaemon(cacheDir);
      alice.setSource(cellId, "print('edited during the outage')");
      const added = alice.createCell("print(6 * 7)");
      const early = await allFulfilled(
        { flush: alice.flush(), sync: alice.sync(), executeCell: alice.executeCell(added, { timeoutSecs: 150 }), kernelInfo: alice.kernelInfo() },
        180_000,
      );
      expect(early.executeCell.stdout).toBe("42\n");
      expect(early.kernelInfo.status).toMatch(/not_started|starting|idle|busy/);
      const second = readDaemonInfo(cacheDir).pid;
      expect(second).not.toBe(first);

      // Again, once the session knows it is reconnecting: the requests wait for the reconnect.
      await killDaemon(cacheDir);
      await waitFor("the session to notice the dead daemon", () => states.at(-1) === "reconnecting", 10_000);
      alice.setSource(added, "print(7 * 6, 'again')");
      const late = await allFulfilled(
        { flush: alice.flush(), sync: alice.sync(), executeCell: alice.executeCell(cellId, { timeoutSecs: 150 }), kernelInfo: alice.kernelInfo() },
        180_000,
      );
      expect(late.executeCell.stdout).toBe("edited during the outage\n");
      expect(readDaemonInfo(cacheDir).pid).not.toBe(second);
      expect(states.filter((state) => state === "reconnecting").length).toBeGreaterThanOrEqual(2);
      expect(states.at(-1)).toBe("connected");

      const bob = new Session({ notebookId, socketPath, cacheDir, autoStart: false });
      sessions.push(bob);
      await bob.connect();
      await bob.sync();
      expect(bob.getCells().map((cell) => cell.source)).toEqual(["print('edited during the outage')", "print(7 * 6, 'again')"]);
      expect(bob.getCells()).toEqual(alice.getCells());
      process.stdout.write(`calls during an outage: ${states.join(">")}\n`);
    } finally {
      await Promise.all(sessions.map((session) => session.close({ shutdownKernel: true }).catch(() => undefined)));
      await removeDaemonsOf(cacheDir);
    }
  });
});

describe("calls made while the daemon is down and no session may restart it", () => {
  it("an execution times out at its own timeout and never runs once the daemon is back; a flush waits for it; one whose outage lasts fails after its bound", async () => {
    const cacheDir = makeTempDir("outage-bounded");
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const marker = path.join(cacheDir, "ran");
    const session = new Session({ notebookId: "bounded-outage", socketPath, cacheDir, autoStart: false });
    let daemon: DaemonProcess | undefined;
    try {
      daemon = await spawnDaemonProcess(cacheDir, NO_PREWARMING);
      const states = recordStates(session);
      await session.connect();
      const cellId = session.createCell(`open(${JSON.stringify(marker)}, "w").write("ran")`);
      await session.flush();
      await daemon.kill9();
      await waitFor("the session to notice the dead daemon", () => states.at(-1) === "reconnecting", 10_000);

      const flushed = session.flush();
      flushed.catch(() => undefined);
      await within("the execution's own timeout", expectCode(session.executeCell(cellId, { timeoutSecs: 2 }), "TIMEOUT"), 20_000);
      daemon = await spawnDaemonProcess(cacheDir, NO_PREWARMING);
      await within("the flush made during the outage", flushed, 30_000);
      expect(session.isConnected).toBe(true);
      // Had the timed-out execution gone out after the reconnect, it would have started a kernel.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await session.request({ action: "get_queue_state" })).toEqual({ executing: null, queued: [] });
      expect((await session.kernelInfo()).status).toBe("not_started");
      expect(fs.existsSync(marker)).toBe(false);

      await daemon.kill9();
      await waitFor("the session to notice the dead daemon again", () => states.at(-1) === "reconnecting", 10_000);
      const error = await within("a flush whose outage does not end", expectCode(session.flush(), "DAEMON_UNAVAILABLE"), 60_000);
      expect(error.message).toMatch(/did not come back within 30 s/);
    } finally {
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      await daemon?.kill9();
      await removeDaemonsOf(cacheDir);
    }
  });
});
