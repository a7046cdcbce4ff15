import { filter, firstValueFrom, timeout } from "rxjs";
import { expectCode } from "../integration/harness";
import { eventually, serverKernelIds, useGateway } from "./gateway-harness";

jest.setTimeout(180_000);

const WAIT_MS = 30_000;
// Idle rooms are unloaded after a second: every test keeps its session open until the end.
const testbed = useGateway({ roomIdleSecs: 1 });

/** The id of the one kernel the server started while `start` ran. */
async function newKernelId(start: () => Promise<unknown>): Promise<string> {
  const { server } = testbed();
  const before = await serverKernelIds(server);
  await start();
  const started = (await serverKernelIds(server)).filter((id) => !before.includes(id));
  expect(started).toHaveLength(1);
  return started[0]!;
}

describe("a gateway kernel's lifecycle", () => {
  it("interrupt stops a sleeping cell with KeyboardInterrupt and the kernel keeps its state", async () => {
    const session = testbed().daemon.session({ notebookId: "interrupt" });
    await session.run("kept = 41");
    const cellId = session.createCell("import time\nfor _ in range(600): time.sleep(0.05)");
    const started = firstValueFrom(session.events$.pipe(filter((e) => e.type === "execution_started" && e.cellId === cellId), timeout(WAIT_MS)));
    const result = session.executeCell(cellId);
    await started;
    await session.interrupt();
    const interrupted = await result;
    expect(interrupted.success).toBe(false);
    expect(interrupted.error?.ename).toBe("KeyboardInterrupt");
    expect((await session.run("print(kept + 1)")).stdout).toBe("42\n");
  });

  it("restartKernel restarts the same gateway kernel: state gone, execution count back to 1", async () => {
    const { server, daemon } = testbed();
    const session = daemon.session({ notebookId: "restart" });
    await session.connect();
    const kernelId = await newKernelId(() => session.startKernel());
    await session.run("secret = 1");
    expect((await session.run("secret")).executionCount).toBe(2);

    await session.restartKernel();
    expect(session.envSource).toBe("gateway:python3");
    expect(await serverKernelIds(server)).toContain(kernelId);
    const after = await session.run("secret");
    expect(after.executionCount).toBe(1);
    expect(after.error?.ename).toBe("NameError");
    // The fresh process is still the server's child.
    expect((await session.run("import os\nprint(os.getppid())")).stdout.trim()).toBe(String(server.pid));
  });

  it("os._exit(1) in a cell ends it KERNEL_DIED, ends the queued cells too, and startKernel works again", async () => {
    const { server, daemon } = testbed();
    const session = daemon.session({ notebookId: "kernel-death" });
    await session.connect();
    const kernelId = await newKernelId(() => session.startKernel());
    const dying = session.createCell("import os, time\nprint('about to exit', flush=True)\ntime.sleep(0.2)\nos._exit(1)");
    const queued = session.createCell("print('never')");
    const died = session.executeCell(dying);
    const after = session.executeCell(queued);
    const result = await died;
    expect(result.success).toBe(false);
    expect(result.stdout).toBe("about to exit\n");
    expect(result.error?.ename).toBe("KERNEL_DIED");
    expect(result.error?.evalue).toContain(`died on the gateway at ${server.url}`);
    const notRun = await after;
    expect(notRun.success).toBe(false);
    expect(notRun.stdout).toBe("");
    expect(notRun.error).toMatchObject({ ename: "KERNEL_DIED", evalue: expect.stringMatching(/Not run/) });
    await firstValueFrom(session.kernelStatus$.pipe(filter((status) => status === "dead"), timeout(WAIT_MS)));
    // The server restarted it on its own; the daemon shut that stranger down.
    await eventually("the dead kernel is gone from the server", async () => !(await serverKernelIds(server)).includes(kernelId));

    const again = await session.run("print('alive')");
    expect(again.stdout).toBe("alive\n");
    expect(again.executionCount).toBe(1);
  });

  it("shutdownKernel deletes the kernel on the gateway", async () => {
    const { server, daemon } = testbed();
    const session = daemon.session({ notebookId: "shutdown" });
    await session.connect();
    const kernelId = await newKernelId(() => session.startKernel());
    await session.shutdownKernel();
    expect(await serverKernelIds(server)).not.toContain(kernelId);
    expect((await session.kernelInfo()).status).toBe("not_started");
  });

  it("a room unloaded for idleness shuts its gateway kernel down", async () => {
    const { server, daemon } = testbed();
    const session = daemon.session({ notebookId: "idle-unload" });
    await session.connect();
    const kernelId = await newKernelId(() => session.startKernel());
    await session.close({ shutdownKernel: false });
    await eventually("the idle room's kernel is deleted on the server", async () => !(await serverKernelIds(server)).includes(kernelId));
  });

  it("location: 'local' starts a kernel on the daemon's machine even though the daemon has a gateway", async () => {
    const { server, daemon } = testbed();
    const session = daemon.session({ notebookId: "local-escape-hatch" });
    await session.connect();
    const before = await serverKernelIds(server);
    await session.startKernel({ kernelType: "python", location: "local" });
    expect(session.envSource).not.toMatch(/^gateway:/);
    expect(await serverKernelIds(server)).toEqual(before);
    const info = await session.kernelInfo();
    expect(info.pid).toEqual(expect.any(Number));
    // In-process daemon: a local kernel is this process's child, not the server's.
    expect((await session.run("import os\nprint(os.getppid())")).stdout.trim()).toBe(String(process.pid));
  });

  it("an unknown kernelspec, a local envSource or an unknown location is a BAD_REQUEST that says what to do", async () => {
    const session = testbed().daemon.session({ notebookId: "bad-requests" });
    await session.connect();
    const unknown = await expectCode(session.startKernel({ kernelType: "julia" }), "BAD_REQUEST");
    expect(unknown.message).toContain(`No kernelspec "julia" on the gateway at ${testbed().server.url}; it offers: python3 (`);
    const envSource = await expectCode(session.startKernel({ envSource: "uv:prewarmed" }), "BAD_REQUEST");
    expect(envSource.message).toContain('location: "local"');
    const location = await expectCode(session.startKernel({ location: "mars" as "local" }), "BAD_REQUEST");
    expect(location.message).toBe('Unknown kernel location "mars"; use "local" or "gateway"');
    expect((await session.kernelInfo()).status).toBe("not_started");
  });
});
