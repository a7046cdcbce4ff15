import { filter, firstValueFrom, lastValueFrom, timeout, toArray } from "rxjs";
import type { ExecutionEvent } from "../../lib/session/types";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { isRunning, killEverythingMentioning, makeTempDir, processesMentioning, waitFor, within } from "./processes";

jest.setTimeout(90_000);

let room: TestRoom;

beforeAll(async () => {
  room = await startTestDaemon({ cacheDir: makeTempDir("kernel-death") });
});

afterAll(async () => {
  await room?.dispose();
  if (room) {
    killEverythingMentioning(room.cacheDir);
    removeDir(room.cacheDir);
  }
});

describe("a kernel that exits in the middle of a cell", () => {
  it("ends the running cell with a KERNEL_DIED error, ends the queued cells unsuccessfully, and a new kernel runs", async () => {
    const session = room.session({ notebookId: "kernel-exits" });
    await session.connect();
    await session.startKernel();
    const firstPid = (await session.kernelInfo()).pid;
    expect(firstPid).not.toBeNull();

    const dying = session.createCell("import os, time\nprint('about to exit', flush=True)\ntime.sleep(0.2)\nos._exit(1)");
    const queuedCells = [session.createCell("print('never runs 1')"), session.createCell("print('never runs 2')")];

    let exitedAt = 0;
    const dyingEvents = lastValueFrom(session.execute(dying, { timeoutSecs: 30 }).pipe(toArray()));
    // Watch the kernel process itself: the clock starts when it is gone.
    const watcher = setInterval(() => {
      if (!exitedAt && !isRunning(firstPid!)) exitedAt = Date.now();
    }, 2);
    const dyingStarted = firstValueFrom(
      session.events$.pipe(
        filter((event) => event.type === "output" && event.cellId === dying),
        timeout(15_000),
      ),
    );
    const queuedResults = queuedCells.map((id) => session.executeCell(id, { timeoutSecs: 30 }));

    const events: ExecutionEvent[] = await within("the dying cell's result", dyingEvents, 20_000).finally(() => clearInterval(watcher));
    const resultAt = Date.now();
    await dyingStarted;
    expect(exitedAt).toBeGreaterThan(0);
    const result = events.at(-1);
    expect(result?.type).toBe("result");
    if (result?.type !== "result") throw new Error("no result");
    expect(result.result.success).toBe(false);
    expect(result.result.stdout).toContain("about to exit");
    expect(result.result.error?.ename).toBe("KERNEL_DIED");
    process.stdout.write(`kernel os._exit(1): error result ${resultAt - exitedAt} ms after the kernel exited (its pid polled every 2 ms)\n`);

    for (const queued of await within("the queued cells' results", Promise.all(queuedResults), 20_000)) {
      expect(queued.success).toBe(false);
      expect(queued.stdout).toBe("");
      expect(queued.error?.ename).toBe("KERNEL_DIED");
      expect(queued.error?.evalue).toMatch(/Not run/);
    }
    await waitFor("the old kernel process to be gone", () => !isRunning(firstPid!), 10_000);

    const after = await session.run("print(6 * 7)", { timeoutSecs: 60 });
    expect(after.success).toBe(true);
    expect(after.stdout).toBe("42\n");
    const secondPid = (await session.kernelInfo()).pid;
    expect(secondPid).not.toBe(firstPid);
    expect(processesMentioning(room.cacheDir).some((p) => p.pid === secondPid)).toBe(true);
    await session.shutdownKernel();
    await waitFor("the new kernel to stop", () => !isRunning(secondPid!), 10_000);
  });
});
