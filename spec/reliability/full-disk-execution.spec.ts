import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startTestDaemon, type TestRoom } from "../integration/harness";
import { NO_PREWARMING, setEnv } from "./environment";

jest.setTimeout(120_000);

// The daemon's whole cache dir on a real, small tmpfs (mounting needs root: without it the test
// left says it could not run).
const DISK_BYTES = 8 * 1024 * 1024;
const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-full-disk-exec-"));
let mountError: string | undefined;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${DISK_BYTES}`, "tmpfs", mountPoint], { stdio: "pipe" });
} catch (error) {
  mountError = ((error as { stderr?: Buffer }).stderr?.toString() || (error as Error).message).trim();
}

if (mountError) {
  it(`a full disk during an execution: not run, mounting a tmpfs failed (${mountError})`, () => {
    expect(mountError).toBeTruthy();
  });
} else {
  describe("a full disk while a cell runs", () => {
    let room: TestRoom | undefined;
    let restoreEnv: (() => void) | undefined;

    beforeAll(async () => {
      // No environments on an 8 MiB disk: the system kernelspec's Python runs the cells.
      restoreEnv = setEnv(NO_PREWARMING);
      room = await startTestDaemon({ cacheDir: mountPoint });
    });

    afterAll(async () => {
      await room?.dispose();
      execFileSync("umount", [mountPoint]);
      fs.rmSync(mountPoint, { recursive: true, force: true });
      restoreEnv?.();
    });

    it("fails that execution with STORAGE_FAILED, keeps the daemon up, and the next cell runs once there is room", async () => {
      const session = room!.session({ notebookId: "full-disk" });
      await session.startKernel({ kernelType: "python3" });
      expect((await session.run("print('room to spare')")).stdout).toBe("room to spare\n");

      // Fill the disk, then print more than fits in the document inline (it must become a blob).
      const filler = path.join(mountPoint, "filler");
      const fd = fs.openSync(filler, "w");
      try {
        for (const block = Buffer.alloc(64 * 1024, 1); ; ) fs.writeSync(fd, block);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
      } finally {
        fs.closeSync(fd);
      }
      const result = await session.run("print('x' * 200_000)", { timeoutSecs: 60 });
      expect(result.success).toBe(false);
      expect(result.error?.ename).toBe("STORAGE_FAILED");
      expect(result.error?.evalue).toMatch(/could not be stored.*disk is full/);
      // What the kernel printed still reached the caller live.
      expect(result.stdout.length).toBe(200_001);

      fs.rmSync(filler);
      const after = await session.run("print('again')");
      expect(after.stdout).toBe("again\n");
      expect(room!.daemon.status().pid).toBe(process.pid);
      await session.close({ shutdownKernel: true });
    });
  });
}
