import * as Automerge from "@automerge/automerge";
import type * as nbformat from "@jupyterlab/nbformat";
import { filter, firstValueFrom, lastValueFrom, toArray } from "rxjs";
import type { ExecutionEvent, Output } from "../../lib/session/types";
import { useTestDaemon } from "./harness";

jest.setTimeout(120_000);

const testDaemon = useTestDaemon();

function text(output: Output | undefined): string {
  const value = (output as nbformat.IStream | undefined)?.text ?? "";
  return Array.isArray(value) ? value.join("") : value;
}

describe("outputs as a terminal shows them", () => {
  const session = () => testDaemon().session({ notebookId: "terminal-outputs" });
  let shared: ReturnType<typeof session>;
  beforeAll(() => {
    shared = session();
  });

  it("a \\r progress bar ends as its last frame", async () => {
    const result = await shared.run(
      "import sys, time\nfor i in range(0, 101, 10):\n    sys.stdout.write(f'\\r[{\"#\" * (i // 10):<10}] {i}%')\n    sys.stdout.flush()\n    time.sleep(0.01)\nprint()",
    );
    expect(result.stdout).toBe("[##########] 100%\n");
  });

  it("\\b moves back over what was written", async () => {
    expect((await shared.run("print('abc\\b\\bX')")).stdout).toBe("aXc\n");
  });

  it("ANSI colours are preserved", async () => {
    const result = await shared.run("print('\\x1b[31mred\\x1b[0m plain')");
    expect(result.stdout).toContain("\x1b[31mred");
    expect(result.stdout).toContain("plain");
  });

  it("interleaved stdout and stderr stay separate outputs, many prints merge into one", async () => {
    const result = await shared.run(
      "import sys\nfor i in range(50): print(i, flush=True)\nprint('oops', file=sys.stderr, flush=True)\nprint('after', flush=True)",
    );
    expect(result.outputs.map((o) => `${o.output_type}:${(o as nbformat.IStream).name}`)).toEqual([
      "stream:stdout",
      "stream:stderr",
      "stream:stdout",
    ]);
    expect(text(result.outputs[0])).toBe(Array.from({ length: 50 }, (_, i) => `${i}\n`).join(""));
    expect(result.stderr).toBe("oops\n");
    expect(result.stdout.endsWith("after\n")).toBe(true);
  });

  it("a 500-character line is not broken", async () => {
    expect((await shared.run("print('y' * 500)")).stdout).toBe("y".repeat(500) + "\n");
  });

  it("execute_result and errors with tracebacks come through", async () => {
    const value = await shared.run("{'a': 1}");
    expect(value.displayData[0]).toMatchObject({ output_type: "execute_result", data: { "text/plain": "{'a': 1}" } });
    const failure = await shared.run("1/0");
    expect(failure.error).toMatchObject({ ename: "ZeroDivisionError" });
    expect(failure.outputs[failure.outputs.length - 1]).toMatchObject({ output_type: "error", ename: "ZeroDivisionError" });
  });
});

describe("clear_output and display updates", () => {
  it("clear_output clears now; clear_output(wait=True) clears when the next output arrives", async () => {
    const session = testDaemon().session({ notebookId: "clearing" });
    const now = await session.run("from IPython.display import clear_output\nprint('gone')\nclear_output()\nprint('kept')");
    expect(now.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "kept\n" }]);

    const cellId = session.createCell("from IPython.display import clear_output\nprint('first')\nclear_output(wait=True)\nprint('second')");
    const events = await lastValueFrom(session.execute(cellId).pipe(toArray()));
    const types = events.map((e) => e.type);
    expect(types).toContain("cleared");
    // The clear came after 'first' and just before 'second'.
    const cleared = types.indexOf("cleared");
    expect(types.slice(0, cleared)).toContain("output");
    const result = events[events.length - 1] as Extract<ExecutionEvent, { type: "result" }>;
    expect(result.result.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "second\n" }]);
  });

  it("update_display_data updates the display in every cell that shows it", async () => {
    const session = testDaemon().session({ notebookId: "display-ids" });
    const first = await session.run("from IPython.display import display\nh = display('v1', display_id='shared-display')");
    expect(first.displayData[0]).toMatchObject({ output_type: "display_data", data: { "text/plain": "'v1'" } });
    const second = await session.run("display('v1 again', display_id='shared-display');");
    expect(second.displayData).toHaveLength(1);
    const update = await session.run("h.update('v2');");
    expect(update.success).toBe(true);
    await session.flush();
    const updated = (cellId: string) =>
      firstValueFrom(
        session.cell$(cellId).pipe(filter((cell) => (cell.outputs[0] as nbformat.IDisplayData | undefined)?.data["text/plain"] === "'v2'")),
      );
    await expect(updated(first.cellId)).resolves.toBeTruthy();
    await expect(updated(second.cellId)).resolves.toBeTruthy();
  });
});

describe("live streaming and coalesced document writes", () => {
  it("outputs arrive while the cell runs, before its result", async () => {
    const session = testDaemon().session({ notebookId: "live-stream" });
    const cellId = session.createCell("import time\nprint('early', flush=True)\ntime.sleep(1.5)\nprint('late', flush=True)");
    // queue(): taking only the first event must not cancel the execution (execute() would).
    const firstOutputAt = firstValueFrom(session.queue(cellId).pipe(filter((e) => e.type === "output"))).then(() => Date.now());
    const resultAt = firstValueFrom(session.events$.pipe(filter((e) => e.type === "execution_done" && e.cellId === cellId))).then(() => Date.now());
    const [outputTime, resultTime] = await Promise.all([firstOutputAt, resultAt]);
    // The first output arrived during the cell's 1.5 s sleep, not with the result.
    expect(resultTime).toBeGreaterThan(outputTime);
    const events$ = session.outputs$(cellId);
    const outputs = await firstValueFrom(events$.pipe(filter((list) => text(list[0]).includes("late"))));
    expect(text(outputs[0])).toBe("early\nlate\n");
  });

  it("a cell printing 2000 lines makes a bounded number of document changes", async () => {
    const session = testDaemon().session({ notebookId: "coalescing" });
    const cellId = session.createCell("for i in range(2000): print(f'line {i}', flush=True)");
    await session.flush();
    const before = session.documentBytes();
    const outputEvents = await lastValueFrom(session.execute(cellId).pipe(filter((e) => e.type === "output"), toArray()));
    await session.flush();
    await firstValueFrom(session.cell$(cellId).pipe(filter((c) => c.executionCount !== null && text(c.outputs[0]).includes("line 1999"))));
    const after = session.documentBytes();
    const changes = Automerge.getAllChanges(Automerge.load(after)).length - Automerge.getAllChanges(Automerge.load(before)).length;
    process.stdout.write(
      `[measure] 2000 flushed prints: ${outputEvents.length} live output events, ${changes} document changes, document ${before.length} -> ${after.length} bytes\n`,
    );
    expect(outputEvents.length).toBeGreaterThan(1);
    expect(changes).toBeLessThan(200);
    expect(text(session.getCell(cellId).outputs[0]).split("\n")).toHaveLength(2001);
  });
});
