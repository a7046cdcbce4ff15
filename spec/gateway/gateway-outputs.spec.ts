import type * as nbformat from "@jupyterlab/nbformat";
import { filter, firstValueFrom, lastValueFrom, take, timeout, toArray } from "rxjs";
import { DaemonClient } from "../../lib/transport/daemon-client";
import type { Output } from "../../lib/session/types";
import { serverKernelIds, useGateway } from "./gateway-harness";

jest.setTimeout(120_000);

const WAIT_MS = 30_000;
const testbed = useGateway();

function text(output: Output | undefined): string {
  const value = (output as nbformat.IStream | undefined)?.text ?? "";
  return Array.isArray(value) ? value.join("") : value;
}

describe("a room whose kernel runs on a Jupyter Server gateway", () => {
  it("startKernel starts the gateway's Python kernelspec, and the code runs in a process the server started", async () => {
    const { server, daemon } = testbed();
    const before = await serverKernelIds(server);
    const session = daemon.session({ notebookId: "where-it-runs" });
    await session.connect();
    await session.startKernel({ kernelType: "python" });
    expect(session.kernelType).toBe("python");
    expect(session.envSource).toBe("gateway:python3");

    const started = (await serverKernelIds(server)).filter((id) => !before.includes(id));
    expect(started).toHaveLength(1);
    const info = await session.kernelInfo();
    expect(info).toMatchObject({ status: "idle", kernel_type: "python", env_source: "gateway:python3", pid: null });
    expect(info.language_info).toMatchObject({ name: "python" });

    const parent = await session.run("import os\nprint(os.getppid())");
    expect(parent.stdout.trim()).toBe(String(server.pid));
    expect(server.pid).not.toBe(process.pid);

    const status = await new DaemonClient({ socketPath: daemon.daemon.socketPath }).status();
    expect(status.gateway).toEqual({ url: server.url, reachable: true, defaultKernelspec: "python3", kernelspecs: ["python3"], error: null });
    expect(JSON.stringify(status)).not.toContain(server.token);
  });

  it("outputs of every kind reach the result and the document: stream, display_data, execute_result, error", async () => {
    const { daemon } = testbed();
    const session = daemon.session({ notebookId: "every-output" });
    const result = await session.run(
      [
        "import sys",
        "from IPython.display import display, HTML",
        "print('to stdout')",
        "print('to stderr', file=sys.stderr)",
        "display(HTML('<b>bold</b>'))",
        "6 * 7",
      ].join("\n"),
    );
    expect(result.success).toBe(true);
    expect(result.outputs.map((output) => output.output_type)).toEqual(["stream", "stream", "display_data", "execute_result"]);
    expect(result.stdout).toBe("to stdout\n");
    expect(result.stderr).toBe("to stderr\n");
    expect(result.outputs[2]).toMatchObject({ data: { "text/html": "<b>bold</b>" } });
    expect(result.outputs[3]).toMatchObject({ execution_count: result.executionCount, data: { "text/plain": "42" } });

    const failure = await session.run("def f():\n    raise ValueError('boom')\nf()");
    expect(failure.success).toBe(false);
    expect(failure.error).toMatchObject({ ename: "ValueError", evalue: "boom" });
    expect(failure.error!.traceback.length).toBeGreaterThan(1);
    expect(failure.error!.traceback[failure.error!.traceback.length - 1]).toContain("boom");

    // Another client reads the same outputs from the document.
    const reader = daemon.session({ notebookId: "every-output" });
    await reader.connect();
    await firstValueFrom(reader.cell$(failure.cellId).pipe(filter((cell) => cell.outputs.length > 0), timeout(WAIT_MS)));
    expect(reader.getCell(result.cellId)!.outputs).toEqual(result.outputs);
    expect(reader.getCell(result.cellId)!.executionCount).toBe(result.executionCount);
    expect(reader.getCell(failure.cellId)!.outputs[0]).toMatchObject({ output_type: "error", ename: "ValueError" });
  });

  it("a \\r progress bar ends as its last frame, as with a local kernel", async () => {
    const session = testbed().daemon.session({ notebookId: "progress-bar" });
    const result = await session.run(
      "import sys, time\nfor i in range(0, 101, 10):\n    sys.stdout.write(f'\\r[{\"#\" * (i // 10):<10}] {i}%')\n    sys.stdout.flush()\n    time.sleep(0.01)\nprint()",
    );
    expect(result.stdout).toBe("[##########] 100%\n");
  });

  it("update_display_data updates the display in every cell that shows it", async () => {
    const session = testbed().daemon.session({ notebookId: "display-updates" });
    const first = await session.run("from IPython.display import display\nh = display('v1', display_id='shared')");
    const second = await session.run("display('v1 again', display_id='shared');");
    expect((await session.run("h.update('v2')")).success).toBe(true);
    const updated = (cellId: string) =>
      firstValueFrom(
        session.cell$(cellId).pipe(
          filter((cell) => (cell.outputs[0] as nbformat.IDisplayData | undefined)?.data["text/plain"] === "'v2'"),
          timeout(WAIT_MS),
        ),
      );
    await expect(updated(first.cellId)).resolves.toBeTruthy();
    await expect(updated(second.cellId)).resolves.toBeTruthy();
  });

  it("input() reaches clients as an input_request over the channels WebSocket, and sendInput answers it", async () => {
    const { daemon } = testbed();
    const session = daemon.session({ notebookId: "stdin" });
    const other = daemon.session({ notebookId: "stdin" });
    await other.connect();
    const cellId = session.createCell("name = input('Your name? ')\nprint('hello', name)");
    const prompt = firstValueFrom(other.events$.pipe(filter((event) => event.type === "input_request"), timeout(WAIT_MS)));
    const events = lastValueFrom(session.execute(cellId).pipe(toArray()));
    expect(await prompt).toMatchObject({ prompt: "Your name? ", password: false });
    await other.sendInput("Ada");
    const all = await events;
    const last = all[all.length - 1]!;
    expect(last.type === "result" && last.result.stdout).toBe("hello Ada\n");
  });

  it("comms from the kernel reach clients, and a client's comm messages reach the kernel", async () => {
    const session = testbed().daemon.session({ notebookId: "comms" });
    const opened = firstValueFrom(session.events$.pipe(filter((e) => e.type === "comm" && e.msgType === "comm_open"), take(1), timeout(WAIT_MS)));
    const open = await session.run(
      [
        "from ipykernel.comm import Comm",
        "received = []",
        "c = Comm(target_name='jupyter.widget', data={'state': {'value': 1}, 'buffer_paths': []})",
        "c.on_msg(lambda msg: received.append(msg['content']['data']))",
        "print(c.comm_id)",
      ].join("\n"),
    );
    const commId = open.stdout.trim();
    expect(await opened).toMatchObject({ content: { comm_id: commId, target_name: "jupyter.widget" } });
    await session.sendComm("comm_msg", { comm_id: commId, data: { method: "update", state: { value: 7 }, buffer_paths: [] } });
    const seen = await session.run("import time\nfor _ in range(100):\n    if received: break\n    time.sleep(0.05)\nprint(received[-1]['state']['value'] if received else None)");
    expect(seen.stdout.trim()).toBe("7");
  });

  it("complete and history are answered by the gateway kernel", async () => {
    const session = testbed().daemon.session({ notebookId: "introspection" });
    await session.run("gateway_value = 1");
    const completion = await session.complete("gateway_va");
    expect(completion.matches).toContain("gateway_value");
    expect(completion.cursorEnd).toBe("gateway_va".length);
    const history = await session.history({ n: 5 });
    expect(history.map((entry) => entry.source)).toContain("gateway_value = 1");
  });

  it("queued cells run in order, each with the source its client last wrote", async () => {
    const session = testbed().daemon.session({ notebookId: "queue" });
    await session.connect();
    const a = session.createCell("total = 1");
    const b = session.createCell("total += 10");
    const c = session.createCell("print(total)");
    await session.queueCell(a);
    await session.queueCell(b);
    // Edited after queueing, before it runs: the daemon reads the source when the cell starts.
    session.setSource(b, "total += 100");
    const result = await session.executeCell(c);
    expect(result.stdout).toBe("101\n");
    expect(session.getCell(b)!.executionCount).toBe(session.getCell(a)!.executionCount! + 1);
  });

  it("a cell over its timeout fails with TIMEOUT and the kernel goes on to the next one", async () => {
    const session = testbed().daemon.session({ notebookId: "timeouts" });
    await session.run("kept = 'state'");
    const slow = session.createCell("import time\nfor _ in range(600): time.sleep(0.05)");
    await expect(session.executeCell(slow, { timeoutSecs: 1 })).rejects.toMatchObject({ code: "TIMEOUT" });
    const next = await session.run("print(kept)");
    expect(next.stdout).toBe("state\n");
  });

  it("over jupyter_server's iopub data rate limit (1 MB/s by default) the server drops output and says so on stderr", async () => {
    const session = testbed().daemon.session({ notebookId: "rate-limit" });
    const flood = await session.run("for i in range(8):\n    print('x' * 1_000_000, flush=True)");
    expect(flood.success).toBe(true);
    // The notice is the server's own stderr stream message, in the cell's outputs like any other.
    expect(flood.stderr).toContain("IOPub data rate exceeded.");
    expect(flood.stderr).toContain("--ServerApp.iopub_data_rate_limit");
    // Part of the 8 MB never left the server: it is not in the result, nor in the document.
    const printed = 8 * 1_000_001;
    expect(flood.stdout.length).toBeLessThan(printed);
    // The server resets its counters when the kernel goes idle: the next cell's output comes through.
    expect((await session.run("print('next cell')")).stdout).toBe("next cell\n");
  });
});
