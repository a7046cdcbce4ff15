import * as fs from "node:fs";
import { Session } from "../../lib/session/session";
import { removeDir, startTestDaemon } from "../integration/harness";
import {
  TEMP_PREFIX,
  isRunning,
  killEverythingMentioning,
  makeTempDir,
  processesMentioning,
  spawnDaemonProcess,
  waitFor,
  type DaemonProcess,
} from "./processes";

jest.setTimeout(90_000);

/** Kernel and daemon processes (of any cache dir) whose command line mentions `dir`. */
function kernelsAndDaemonsUnder(dir: string): { pid: number; cmdline: string }[] {
  return processesMentioning(dir).filter(({ cmdline }) => /ipykernel_launcher|deno jupyter|daemon[/\\]main\.(ts|js)/.test(cmdline));
}

describe("resource leaks", () => {
  it("stopping an in-process daemon stops every kernel it started, prewarmed ones included", async () => {
    const room = await startTestDaemon({ cacheDir: makeTempDir("leak-inprocess") });
    try {
      const sessions = [room.session({ notebookId: "leak-a" }), room.session({ notebookId: "leak-b" })];
      for (const session of sessions) expect((await session.run("print('up')", { timeoutSecs: 60 })).stdout).toBe("up\n");
      expect(kernelsAndDaemonsUnder(room.cacheDir).length).toBeGreaterThanOrEqual(2);
    } finally {
      await room.dispose();
    }
    await waitFor("every kernel of the stopped daemon to exit", () => kernelsAndDaemonsUnder(room.cacheDir).length === 0, 10_000).catch(() => undefined);
    const left = kernelsAndDaemonsUnder(room.cacheDir);
    killEverythingMentioning(room.cacheDir);
    removeDir(room.cacheDir);
    expect(left).toEqual([]);
  });

  it("a daemon process stopped with SIGTERM leaves no kernel behind", async () => {
    const cacheDir = makeTempDir("leak-sigterm");
    let daemon: DaemonProcess | undefined;
    const session = new Session({ notebookId: "leak-term", socketPath: `${cacheDir}/runtimed.sock`, cacheDir, autoStart: false });
    try {
      daemon = await spawnDaemonProcess(cacheDir);
      const result = await session.run("import os; print(os.getpid())", { timeoutSecs: 60 });
      const kernelPid = Number(result.stdout.trim());
      expect(isRunning(kernelPid)).toBe(true);
      await session.close({ shutdownKernel: false });
      await daemon.stop();
      await waitFor("the kernel to exit with its daemon", () => !isRunning(kernelPid), 10_000).catch(() => undefined);
      expect(kernelsAndDaemonsUnder(cacheDir)).toEqual([]);
    } finally {
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      await daemon?.kill9();
      killEverythingMentioning(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("a daemon process killed with SIGKILL leaves no kernel running for long", async () => {
    const cacheDir = makeTempDir("leak-sigkill");
    let daemon: DaemonProcess | undefined;
    const session = new Session({ notebookId: "leak-kill", socketPath: `${cacheDir}/runtimed.sock`, cacheDir, autoStart: false, reconnect: false });
    try {
      daemon = await spawnDaemonProcess(cacheDir);
      const result = await session.run("import os; print(os.getpid())", { timeoutSecs: 60 });
      const kernelPid = Number(result.stdout.trim());
      expect(isRunning(kernelPid)).toBe(true);
      await daemon.kill9();
      // Orphaned kernels must notice their parent is gone (ipykernel's parent poller) and exit.
      await waitFor("the orphaned kernels to exit", () => kernelsAndDaemonsUnder(cacheDir).length === 0, 10_000).catch(() => undefined);
      const orphans = kernelsAndDaemonsUnder(cacheDir);
      process.stdout.write(`after SIGKILL of the daemon: ${orphans.length} orphaned kernel process(es) left after 10 s\n`);
      expect(orphans).toEqual([]);
    } finally {
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      await daemon?.kill9();
      killEverythingMentioning(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("no kernel or daemon process started by the reliability suite is still running", () => {
    // Every spec here names its temp dirs with TEMP_PREFIX, so a leftover mentions it.
    const leftovers = processesMentioning(TEMP_PREFIX).filter(({ cmdline }) => !cmdline.includes("jest"));
    killEverythingMentioning(TEMP_PREFIX);
    expect(leftovers).toEqual([]);
  });
});
