import { filter, firstValueFrom, timeout } from "rxjs";
import WebSocket from "ws";
import { DaemonClient } from "../../lib/transport/daemon-client";
import type { Session } from "../../lib/session/session";
import { expectCode } from "../integration/harness";
import { FAST_RETRIES, eventually, serverKernelIds, startGatewayDaemon, type GatewayDaemon } from "./gateway-harness";
import { freePort } from "../free-port";
import { startJupyterServer, type JupyterServer } from "./jupyter-server";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";

jest.setTimeout(180_000);

const WAIT_MS = 30_000;

let server: JupyterServer;
beforeAll(async () => {
  server = await startJupyterServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Everything a test started, stopped in reverse order even when it failed. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function daemonFor(url: string, token = server.token): Promise<GatewayDaemon> {
  const daemon = await startGatewayDaemon({ url, authToken: token, ...FAST_RETRIES });
  cleanups.push(() => daemon.dispose());
  return daemon;
}

async function proxy(port?: number): Promise<TcpProxy> {
  const started = await startTcpProxy(server.port, port);
  cleanups.push(() => started.close());
  return started;
}

/**
 * Runs `source` in a new cell and resolves once its first output has arrived, with the result
 * still to come (wrapped: an async function returning a promise would wait for it).
 */
async function runUntilFirstOutput(session: Session, source: string): Promise<{ result: ReturnType<Session["executeCell"]> }> {
  const cellId = session.createCell(source);
  const firstOutput = firstValueFrom(session.events$.pipe(filter((e) => e.type === "output" && e.cellId === cellId), timeout(WAIT_MS)));
  const result = session.executeCell(cellId, { timeoutSecs: 120 });
  result.catch(() => undefined);
  await firstOutput;
  return { result };
}

describe("a gateway that cannot be used", () => {
  it("a wrong token: startKernel fails KERNEL_FAILED saying the token was refused, and status says so too", async () => {
    const daemon = await daemonFor(server.url, "not-the-token");
    const session = daemon.session({ notebookId: "wrong-token" });
    await session.connect();
    const error = await expectCode(session.startKernel(), "KERNEL_FAILED");
    expect(error.message).toContain(`the gateway at ${server.url} refused the token (HTTP 403)`);
    expect(error.message).toContain("JUPYTER_GATEWAY_AUTH_TOKEN");
    expect(error.message).not.toContain("not-the-token");
    const status = await new DaemonClient({ socketPath: daemon.daemon.socketPath }).status();
    expect(status.gateway).toMatchObject({ url: server.url, reachable: false });
    expect(status.gateway!.error).toContain("refused the token");
  });

  it("an unreachable URL: startKernel fails KERNEL_FAILED naming the URL, and the document loses nothing", async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const daemon = await daemonFor(nobody);
    const session = daemon.session({ notebookId: "unreachable" });
    await session.connect();
    const cellId = session.createCell("print('kept')");
    const error = await expectCode(session.startKernel(), "KERNEL_FAILED");
    expect(error.message).toContain(`The gateway at ${nobody} is unreachable (connect ECONNREFUSED`);
    const failed = await session.executeCell(cellId);
    expect(failed.success).toBe(false);
    expect(failed.error).toMatchObject({ ename: "KERNEL_FAILED", evalue: expect.stringContaining(`The gateway at ${nobody} is unreachable`) });
    expect(session.getCell(cellId)!.source).toBe("print('kept')");
    const status = await new DaemonClient({ socketPath: daemon.daemon.socketPath }).status();
    expect(status.gateway).toMatchObject({ url: nobody, reachable: false });
  });
});

describe("a gateway connection that drops", () => {
  it("the channels WebSocket drops while the kernel lives: it reconnects to the same kernel, which keeps its state and its cell's output", async () => {
    const gate = await proxy();
    const daemon = await daemonFor(gate.url);
    const session = daemon.session({ notebookId: "reconnect" });
    await session.connect();
    const before = await serverKernelIds(server);
    await session.run("x = 5");
    const kernelId = (await serverKernelIds(server)).find((id) => !before.includes(id));

    const { result } = await runUntilFirstOutput(session, "import time\nprint('before', flush=True)\ntime.sleep(1.5)\nprint('after', flush=True)");
    gate.cut({ refuseForMs: 300 });
    const done = await result;
    // The server buffered what the kernel sent while no one listened, and replayed it.
    expect(done.success).toBe(true);
    expect(done.stdout).toBe("before\nafter\n");
    expect((await session.run("print(x)")).stdout).toBe("5\n");
    expect(await serverKernelIds(server)).toContain(kernelId);
  });

  it("when the gap swallowed a cell's end, the cell ends with what arrived and says the connection dropped", async () => {
    const gate = await proxy();
    const daemon = await daemonFor(gate.url);
    const session = daemon.session({ notebookId: "lost-end" });
    await session.connect();
    const before = await serverKernelIds(server);
    await session.run("y = 7");
    const kernelId = (await serverKernelIds(server)).find((id) => !before.includes(id))!;
    // Another client on the same kernel (a JupyterLab tab, say): the server buffers nothing for a
    // connection that drops while another is open, so what happens in the gap is lost to us.
    const other = new WebSocket(`${server.url.replace("http", "ws")}/api/kernels/${kernelId}/channels?session_id=other-tab`, {
      headers: { Authorization: `token ${server.token}` },
    });
    cleanups.push(() => other.terminate());
    await new Promise((resolve, reject) => other.once("open", resolve).once("error", reject));

    const { result } = await runUntilFirstOutput(session, "import time\nprint('before', flush=True)\ntime.sleep(0.3)\nprint('after', flush=True)");
    gate.cut({ refuseForMs: 2000 });
    const done = await result;
    expect(done.success).toBe(false);
    expect(done.stdout).toBe("before\n");
    expect(done.error).toMatchObject({ ename: "ConnectionLost", evalue: expect.stringContaining("The connection to the gateway dropped while this cell ran") });
    expect(session.getCell(done.cellId)!.outputs.map((output) => output.output_type)).toEqual(["stream", "error"]);
    // Same kernel, state kept.
    expect((await session.run("print(y)")).stdout).toBe("7\n");
  });

  it("the gateway goes away for good: the running cell ends KERNEL_DIED naming it, and startKernel works once it is back", async () => {
    const gate = await proxy();
    const daemon = await daemonFor(gate.url);
    const session = daemon.session({ notebookId: "gone-for-good" });
    await session.connect();
    const { result } = await runUntilFirstOutput(session, "import time\nprint('running', flush=True)\nfor _ in range(400): time.sleep(0.05)");
    await gate.close();
    const done = await result;
    expect(done.success).toBe(false);
    expect(done.stdout).toBe("running\n");
    expect(done.error?.ename).toBe("KERNEL_DIED");
    expect(done.error?.evalue).toContain(`Kernel python3 was lost: the gateway at ${gate.url} stopped answering`);
    await firstValueFrom(session.kernelStatus$.pipe(filter((status) => status === "dead"), timeout(WAIT_MS)));

    const down = await expectCode(session.startKernel(), "KERNEL_FAILED");
    expect(down.message).toContain(`The gateway at ${gate.url} is unreachable`);
    await proxy(gate.port);
    await session.startKernel();
    expect((await session.run("print('back')")).stdout).toBe("back\n");
    expect(session.getCell(done.cellId)!.outputs[0]).toMatchObject({ output_type: "stream", text: "running\n" });
  });
});

describe("a gateway server that stops", () => {
  it("stopped mid-execution: the cell ends with an error, the room says the kernel is gone, and it works again once the server is back", async () => {
    const own = await startJupyterServer();
    cleanups.push(() => own.stop());
    const daemon = await daemonFor(own.url, own.token);
    const session = daemon.session({ notebookId: "server-stops" });
    await session.connect();
    const kernelError = firstValueFrom(session.events$.pipe(filter((e) => e.type === "kernel_error"), timeout(WAIT_MS)));
    const { result } = await runUntilFirstOutput(session, "import time\nprint('started', flush=True)\nfor _ in range(400): time.sleep(0.05)");
    await own.stop();
    const done = await result;
    expect(done.success).toBe(false);
    expect(done.stdout).toBe("started\n");
    // A stopping server interrupts its kernels, then shuts them down: the cell ends with
    // whichever the daemon hears first, the interrupt or the shutdown.
    if (done.error?.ename === "KERNEL_DIED") expect(done.error.evalue).toBe(`Kernel python3 was shut down by the gateway at ${own.url}`);
    else expect(done.error?.ename).toBe("KeyboardInterrupt");
    expect(await kernelError).toMatchObject({ message: `Kernel python3 was shut down by the gateway at ${own.url}` });
    await firstValueFrom(session.kernelStatus$.pipe(filter((status) => status === "dead"), timeout(WAIT_MS)));
    const down = await expectCode(session.startKernel(), "KERNEL_FAILED");
    expect(down.message).toContain(`The gateway at ${own.url} is unreachable`);

    const back = await startJupyterServer({ port: own.port, token: own.token });
    cleanups.push(() => back.stop());
    await eventually("the restarted server answers the daemon", async () => (await new DaemonClient({ socketPath: daemon.daemon.socketPath }).status()).gateway?.reachable === true);
    expect((await session.run("print('again')")).stdout).toBe("again\n");
    expect(session.getCell(done.cellId)!.outputs[0]).toMatchObject({ output_type: "stream", text: "started\n" });
  });
});
