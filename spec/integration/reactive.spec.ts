import { filter, firstValueFrom, lastValueFrom, take, toArray, type Observable } from "rxjs";
import { toResult } from "../../lib/session/operators";
import type { ConnectionState, ExecutionEvent, KernelStatus } from "../../lib/session/types";
import { useTestDaemon } from "./harness";

jest.setTimeout(120_000);

const testDaemon = useTestDaemon();

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("executions are cold observables", () => {
  it("nothing is sent before subscribe, and each subscription is its own execution", async () => {
    const session = testDaemon().session({ notebookId: "cold" });
    const cellId = session.createCell("print('ran')");
    const execution$ = session.execute(cellId);
    await session.connect();
    await delay(300);
    expect(session.getCell(cellId).executionCount).toBeNull();
    const first = await lastValueFrom(execution$.pipe(toResult()));
    const second = await lastValueFrom(execution$.pipe(toResult()));
    expect(first.executionId).not.toBe(second.executionId);
    expect([first.executionCount, second.executionCount]).toEqual([1, 2]);
  });

  it("emits queued, started, outputs and the result last, then completes", async () => {
    const session = testDaemon().session({ notebookId: "event-order" });
    const cellId = session.createCell("print('a', flush=True)\nprint('b', flush=True)\n7");
    const events = await lastValueFrom(session.execute(cellId).pipe(toArray()));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("queued");
    expect(types).toContain("started");
    expect(types.indexOf("started")).toBeLessThan(types.indexOf("output"));
    expect(types[types.length - 1]).toBe("result");
    const outputs = events.filter((e): e is Extract<ExecutionEvent, { type: "output" }> => e.type === "output");
    expect(outputs[outputs.length - 1]!.index).toBe(1);
  });

  it("unsubscribing a queued execution removes it from the queue; a running one is interrupted; the next runs normally", async () => {
    const session = testDaemon().session({ notebookId: "cancel" });
    await session.startKernel();
    const slow = session.createCell("import time\nfor _ in range(600):\n    time.sleep(0.05)\nprint('slow finished')");
    const queued = session.createCell("print('should never run')");
    const after = session.createCell("print('after')");

    const slowResult = lastValueFrom(session.queue(slow).pipe(toResult()));
    await firstValueFrom(session.queueState$.pipe(filter((q) => q.executing?.cellId === slow)));
    const queuedSubscription = session.execute(queued).subscribe();
    await firstValueFrom(session.queueState$.pipe(filter((q) => q.queued.some((e) => e.cellId === queued))));
    queuedSubscription.unsubscribe();
    await firstValueFrom(session.queueState$.pipe(filter((q) => !q.queued.some((e) => e.cellId === queued))));

    // Unsubscribing execute() while its cell runs interrupts it.
    await session.interrupt();
    expect((await slowResult).error?.ename).toBe("KeyboardInterrupt");

    const running = session.execute(slow).subscribe();
    await firstValueFrom(session.queueState$.pipe(filter((q) => q.executing?.cellId === slow)));
    await delay(300);
    running.unsubscribe();
    const interrupted = await firstValueFrom(
      session.events$.pipe(filter((e) => e.type === "execution_done" && e.cellId === slow)),
    );
    expect(interrupted).toMatchObject({ success: false });

    const next = await session.executeCell(after);
    expect(next.stdout).toBe("after\n");
    expect(session.getCell(queued).executionCount).toBeNull();
    expect(session.getCell(slow).outputs.some((o) => o.output_type === "error")).toBe(true);
  });

  it("unsubscribing from queue() only stops watching", async () => {
    const session = testDaemon().session({ notebookId: "queue-watch" });
    const cellId = session.createCell("import time\ntime.sleep(0.5)\nprint('done anyway')");
    await firstValueFrom(session.queue(cellId).pipe(filter((e) => e.type === "started")));
    const done = await firstValueFrom(session.events$.pipe(filter((e) => e.type === "execution_done" && e.cellId === cellId)));
    expect(done).toMatchObject({ success: true });
    const cell = await firstValueFrom(session.cell$(cellId).pipe(filter((c) => c.outputs.length > 0)));
    expect(cell.outputs[0]).toMatchObject({ text: "done anyway\n" });
  });

  it("a kernel exception is a result, a request failure is an observable error", async () => {
    const session = testDaemon().session({ notebookId: "error-kinds" });
    const failing = session.createCell("raise KeyError('k')");
    const result = await lastValueFrom(session.execute(failing).pipe(toResult()));
    expect(result.success).toBe(false);
    await expect(lastValueFrom(session.execute("cell-does-not-exist"))).rejects.toMatchObject({ code: "CELL_NOT_FOUND" });
  });

  it("executeAll runs cells in order and stops at the first failure; runAll runs every code cell", async () => {
    const session = testDaemon().session({ notebookId: "pipeline" });
    const load = session.createCell("data = [1, 2, 3]");
    session.createCell("# Notes", { cellType: "markdown" });
    const transform = session.createCell("total = sum(data)\nprint(total)");
    const broken = session.createCell("raise RuntimeError('stop here')");
    const never = session.createCell("print('unreachable')");
    const results = await lastValueFrom(session.runAll().pipe(toResult(), toArray()));
    expect(results.map((r) => r.cellId)).toEqual([load, transform, broken]);
    expect(results[1]!.stdout).toBe("6\n");
    expect(session.getCell(never).executionCount).toBeNull();
    const all = await lastValueFrom(session.executeAll([broken, never], { stopOnError: false }).pipe(toResult(), toArray()));
    expect(all.map((r) => r.success)).toEqual([false, true]);
  });
});

describe("the session as observables", () => {
  it("late subscribers get the current value of cells$, kernelStatus$, queueState$ and connection$", async () => {
    const session = testDaemon().session({ notebookId: "late-subscribers" });
    const cellId = session.createCell("1");
    await session.run("2");
    expect((await firstValueFrom(session.cells$)).map((c) => c.id)).toContain(cellId);
    expect(await firstValueFrom(session.kernelStatus$)).toBe("idle");
    expect(await firstValueFrom(session.queueState$)).toEqual({ executing: null, queued: [] });
    expect(await firstValueFrom(session.connection$)).toBe("connected");
  });

  it("kernelStatus$ goes through starting, busy and idle; cells$ re-emits only on change", async () => {
    const session = testDaemon().session({ notebookId: "status-stream" });
    const statuses: KernelStatus[] = [];
    const cellLists: number[] = [];
    session.kernelStatus$.subscribe((s) => statuses.push(s));
    session.cells$.subscribe((cells) => cellLists.push(cells.length));
    await session.run("1 + 1");
    expect(statuses[0]).toBe("not_started");
    expect(statuses).toEqual(expect.arrayContaining(["starting", "busy", "idle"]));
    const emissions = cellLists.length;
    session.setMetadata("unrelated", "x");
    await delay(100);
    expect(cellLists.length).toBe(emissions);
  });

  it("close() completes every observable", async () => {
    const session = testDaemon().session({ notebookId: "completion" });
    await session.connect();
    const states: ConnectionState[] = [];
    const streams: Observable<unknown>[] = [session.cells$, session.kernelStatus$, session.queueState$, session.events$, session.patches$];
    const completions = streams.map((o) => lastValueFrom(o, { defaultValue: undefined }).then(() => true));
    const connection = lastValueFrom(session.connection$.pipe(toArray())).then((all) => states.push(...all));
    await session.close();
    await expect(Promise.all(completions)).resolves.toEqual([true, true, true, true, true]);
    await connection;
    expect(states[states.length - 1]).toBe("closed");
    await expect(session.connect()).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("events$ shows another client's execution", async () => {
    const runner = testDaemon().session({ notebookId: "observed" });
    const observer = testDaemon().session({ notebookId: "observed" });
    await observer.connect();
    const seen = firstValueFrom(observer.events$.pipe(filter((e) => e.type === "execution_done"), take(1)));
    const result = await runner.run("print('observed')");
    expect(await seen).toMatchObject({ cellId: result.cellId, executionId: result.executionId, success: true });
  });
});

describe("an execution across a dropped connection", () => {
  it("ends with its result and every output when it finished while the connection was down", async () => {
    const room = testDaemon();
    const session = room.session({ notebookId: "dropped-mid-run" });
    const states: ConnectionState[] = [];
    session.connection$.subscribe((state) => states.push(state));
    const cellId = session.createCell("import time\nprint('before', flush=True)\ntime.sleep(0.5)\nprint('after', flush=True)\n6 * 7");
    const done = lastValueFrom(session.execute(cellId, { timeoutSecs: 100 }).pipe(toResult()));
    await firstValueFrom(session.events$.pipe(filter((e) => e.type === "output")));
    // A network drop that outlasts the cell: the daemon takes 2 s to answer new handshakes.
    const daemon = room.daemon as unknown as { handshake(...args: unknown[]): void };
    const handshake = daemon.handshake.bind(daemon);
    daemon.handshake = (...args) => void setTimeout(() => handshake(...args), 2000);
    try {
      for (const socket of room.daemon["sockets"]) socket.close();
      const started = Date.now();
      const result = await done;
      expect(Date.now() - started).toBeLessThan(30_000); // not the execution's 100 s timeout
      expect(states).toContain("reconnecting");
      expect(result.success).toBe(true);
      expect(result.executionCount).toBe(1);
      expect(result.stdout).toBe("before\nafter\n");
      expect(result.displayData.map((d) => d.data["text/plain"])).toEqual(["42"]);
    } finally {
      daemon.handshake = handshake;
    }
  });
});
