import { firstValueFrom, filter, lastValueFrom, toArray } from "rxjs";
import { RuntimedError } from "../../lib/protocol/errors";
import { expectCode, useTestDaemon } from "./harness";

jest.setTimeout(120_000);

const testDaemon = useTestDaemon();


describe("Session document operations", () => {
  it("creates, edits, reads and deletes cells locally and synchronously", async () => {
    const session = testDaemon().session({ notebookId: "doc-ops" });
    await session.connect();
    expect(session.isConnected).toBe(true);
    const first = session.createCell("a = 1");
    const second = session.createCell("# Title", { cellType: "markdown" });
    const zeroth = session.createCell("import os", { index: 0 });
    expect(first).toMatch(/^cell-[0-9a-f-]{36}$/);
    expect(session.getCells().map((c) => c.id)).toEqual([zeroth, first, second]);
    session.setSource(first, "a = 2");
    expect(session.getCell(first)).toMatchObject({ id: first, cellType: "code", source: "a = 2", executionCount: null, outputs: [] });
    expect(session.getCell(second).cellType).toBe("markdown");
    session.deleteCell(zeroth);
    expect(session.getCells().map((c) => c.id)).toEqual([first, second]);
  });

  it("an unknown cell id is CELL_NOT_FOUND naming the id, for reads, edits and executions", async () => {
    const session = testDaemon().session({ notebookId: "unknown-cell" });
    await session.connect();
    expect(() => session.getCell("cell-missing")).toThrow(/cell-missing/);
    expect(() => session.setSource("cell-missing", "x")).toThrow(RuntimedError);
    expect(() => session.deleteCell("cell-missing")).toThrow(RuntimedError);
    try {
      session.getCell("cell-missing");
    } catch (error) {
      expect((error as RuntimedError).code).toBe("CELL_NOT_FOUND");
    }
    const error = await expectCode(session.executeCell("cell-missing"), "CELL_NOT_FOUND");
    expect(error.message).toContain("cell-missing");
    expect(() => session.createCell("", { cellType: "bogus" as never })).toThrow(/Unknown cell type/);
  });

  it("a second session with the same id sees the cells, sources and metadata", async () => {
    const writer = testDaemon().session({ notebookId: "shared-doc" });
    await writer.connect();
    const cellId = writer.createCell("print('shared')");
    writer.setMetadata("notebook_metadata", JSON.stringify({ kernelspec: { name: "python3" } }));
    await writer.flush();

    const reader = testDaemon().session({ notebookId: "shared-doc" });
    await reader.connect();
    expect(reader.getCell(cellId).source).toBe("print('shared')");
    expect(JSON.parse(reader.getMetadata("notebook_metadata")!)).toEqual({ kernelspec: { name: "python3" } });
    expect(reader.getMetadata("absent")).toBeUndefined();

    // Live: an edit by the reader reaches the writer without reconnecting.
    const seen = firstValueFrom(writer.cell$(cellId).pipe(filter((cell) => cell.source === "print('edited')")));
    reader.setSource(cellId, "print('edited')");
    await expect(seen).resolves.toMatchObject({ source: "print('edited')" });
  });

  it("metadata values must be strings", async () => {
    const session = testDaemon().session({ notebookId: "metadata-types" });
    expect(() => session.setMetadata("k", 5 as unknown as string)).toThrow(/strings/);
  });
});

describe("Session execution against a real ipykernel", () => {
  it("runs code and returns stdout, success and the execution count", async () => {
    const session = testDaemon().session({ notebookId: "run-basic" });
    const result = await session.run("print('hello')");
    expect(result).toMatchObject({ success: true, stdout: "hello\n", stderr: "", executionCount: 1, error: null });
    expect(result.executionId).toMatch(/[0-9a-f-]{36}/);
    expect(result.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "hello\n" }]);
    const value = await session.run("40 + 2");
    expect(value.executionCount).toBe(2);
    expect(value.displayData).toEqual([{ output_type: "execute_result", execution_count: 2, data: { "text/plain": "42" }, metadata: {} }]);
    expect(session.kernelStarted).toBe(true);
    expect(session.envSource).toEqual(expect.any(String));
  });

  it("executes the source that is in the document, including edits made after creation", async () => {
    const session = testDaemon().session({ notebookId: "run-edited" });
    const cellId = session.createCell("print('old')");
    session.setSource(cellId, "print('new')");
    const result = await session.executeCell(cellId);
    expect(result.stdout).toBe("new\n");
    // The daemon wrote the outputs and count into the document.
    const cell = await firstValueFrom(session.cell$(cellId).pipe(filter((c) => c.executionCount !== null)));
    expect(cell.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "new\n" }]);
  });

  it("a Python exception is an unsuccessful result with ename, evalue and traceback", async () => {
    const session = testDaemon().session({ notebookId: "run-error" });
    const result = await session.run("raise ValueError('bad value')");
    expect(result.success).toBe(false);
    expect(result.error).toMatchObject({ ename: "ValueError", evalue: "bad value" });
    expect(result.error!.traceback.join("\n")).toContain("ValueError");
  });

  it("two sessions with one id share the kernel", async () => {
    const first = testDaemon().session({ notebookId: "shared-kernel" });
    const second = testDaemon().session({ notebookId: "shared-kernel" });
    await first.run("x = 41");
    const result = await second.run("print(x + 1)");
    expect(result.stdout).toBe("42\n");
  });

  it("startKernel is idempotent, shutdownKernel stops it, the next execution starts a new one", async () => {
    const session = testDaemon().session({ notebookId: "kernel-lifecycle" });
    await session.startKernel();
    const info = await session.kernelInfo();
    await session.startKernel();
    expect((await session.kernelInfo()).pid).toBe(info.pid);
    expect(session.kernelStarted).toBe(true);
    await session.shutdownKernel();
    await firstValueFrom(session.kernelStatus$.pipe(filter((s) => s === "not_started")));
    expect(session.kernelStarted).toBe(false);
    const result = await session.run("1 + 1");
    expect(result.executionCount).toBe(1);
  });

  it("a timeout interrupts the cell and rejects with TIMEOUT; the kernel stays usable", async () => {
    const session = testDaemon().session({ notebookId: "timeout" });
    await session.startKernel();
    const cellId = session.createCell("import time\nfor _ in range(600):\n    time.sleep(0.05)");
    await expectCode(session.executeCell(cellId, { timeoutSecs: 1 }), "TIMEOUT");
    const after = await session.run("print('still here')", { timeoutSecs: 30 });
    expect(after.stdout).toBe("still here\n");
  });

  it("an interrupt the cell does not act on is sent again, like a second Ctrl-C", async () => {
    const session = testDaemon().session({ notebookId: "interrupt-again" });
    await session.startKernel();
    // The cell swallows the first SIGINT, as a long sleep in the main thread effectively does
    // when the kernel hands the signal to another thread.
    const code = [
      "import signal, time",
      "seen = []",
      "def handler(signum, frame):",
      "    seen.append(signum)",
      "    if len(seen) >= 2:",
      "        raise KeyboardInterrupt",
      "signal.signal(signal.SIGINT, handler)",
      "print('waiting', flush=True)",
      "for _ in range(600):",
      "    time.sleep(0.05)",
    ].join("\n");
    const cellId = session.createCell(code);
    const events = lastValueFrom(session.execute(cellId, { timeoutSecs: 120 }).pipe(toArray()));
    await firstValueFrom(session.events$.pipe(filter((e) => e.type === "output")));
    const interruptedAt = Date.now();
    await session.interrupt();
    const all = await events;
    const result = all[all.length - 1]!;
    expect(result.type).toBe("result");
    if (result.type === "result") expect(result.result.error?.ename).toBe("KeyboardInterrupt");
    expect(Date.now() - interruptedAt).toBeLessThan(20_000); // not the cell's 30 s
    const seen = await session.run("len(seen)", { timeoutSecs: 30 });
    expect(seen.displayData[0]?.data["text/plain"]).toBe("2");
  });

  it("interrupt() stops a running cell with KeyboardInterrupt", async () => {
    const session = testDaemon().session({ notebookId: "interrupt" });
    await session.startKernel();
    const cellId = session.createCell("import time\nfor _ in range(600):\n    time.sleep(0.05)");
    const events = lastValueFrom(session.execute(cellId).pipe(toArray()));
    await firstValueFrom(session.queueState$.pipe(filter((q) => q.executing?.cellId === cellId)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await session.interrupt();
    const all = await events;
    const result = all[all.length - 1]!;
    expect(result.type).toBe("result");
    if (result.type === "result") expect(result.result.error?.ename).toBe("KeyboardInterrupt");
  });

  it("kernel death ends the execution with KERNEL_DIED and the room keeps working", async () => {
    const session = testDaemon().session({ notebookId: "kernel-death" });
    await session.startKernel();
    const result = await session.run("import os\nos._exit(1)");
    expect(result.success).toBe(false);
    expect(result.error?.ename).toBe("KERNEL_DIED");
    const next = await session.run("print('alive')");
    expect(next).toMatchObject({ success: true, stdout: "alive\n", executionCount: 1 });
  });

  it("queueCell resolves once queued and the outputs land in the document", async () => {
    const session = testDaemon().session({ notebookId: "queue-cell" });
    const cellId = session.createCell("print('queued')");
    const executionId = await session.queueCell(cellId);
    expect(executionId).toMatch(/[0-9a-f-]{36}/);
    const cell = await firstValueFrom(session.cell$(cellId).pipe(filter((c) => c.executionCount !== null && c.outputs.length > 0)));
    expect(cell.outputs[0]).toMatchObject({ output_type: "stream", text: "queued\n" });
  });

  it("close() shuts the kernel down when it is the last client, and keeps it for others", async () => {
    const stays = testDaemon().session({ notebookId: "close-policy" });
    const leaves = testDaemon().session({ notebookId: "close-policy" });
    await leaves.run("y = 1");
    await stays.connect();
    await leaves.close();
    expect((await stays.kernelInfo()).status).not.toBe("not_started");
    {
      await using last = testDaemon().session({ notebookId: "close-policy" });
      expect((await last.run("print(y)")).stdout).toBe("1\n");
      await stays.close();
    }
    const observer = testDaemon().session({ notebookId: "close-policy" });
    await observer.connect();
    expect((await observer.kernelInfo()).status).toBe("not_started");
  });
});
