import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { filter, firstValueFrom, lastValueFrom, shareReplay, timeout, type Subscription } from "rxjs";
import type { KernelStatus } from "../../lib/session/types";
import { expectCode, removeDir, startTestDaemon, type TestRoom } from "./harness";

jest.setTimeout(120_000);

const WAIT_MS = 30_000;

let room: TestRoom;
let jupyterPath: string;
const previousJupyterPath = process.env.JUPYTER_PATH;

beforeAll(async () => {
  // A kernelspec only this test suite installs: ipykernel under another name, as a user might.
  jupyterPath = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-jupyter-path-"));
  const specDir = path.join(jupyterPath, "kernels", "other-python");
  fs.mkdirSync(specDir, { recursive: true });
  fs.writeFileSync(
    path.join(specDir, "kernel.json"),
    JSON.stringify({
      argv: ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
      display_name: "Other Python",
      language: "python",
      env: { RUNTIMED_SPEC_MARKER: "other-python" },
    }),
  );
  process.env.JUPYTER_PATH = jupyterPath;
  room = await startTestDaemon();
});

afterAll(async () => {
  await room?.dispose();
  if (room) removeDir(room.cacheDir);
  if (previousJupyterPath === undefined) delete process.env.JUPYTER_PATH;
  else process.env.JUPYTER_PATH = previousJupyterPath;
  removeDir(jupyterPath);
});


function textOf(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value);
}

/** Statuses seen on `kernelStatus$` from now on, until the returned subscription ends. */
function recordStatuses(statuses$: { subscribe(next: (status: KernelStatus) => void): Subscription }): { seen: KernelStatus[]; stop(): void } {
  const seen: KernelStatus[] = [];
  const subscription = statuses$.subscribe((status) => seen.push(status));
  return { seen, stop: () => subscription.unsubscribe() };
}

describe("Python and Deno kernels through the same Session API", () => {
  it("a python kernel runs code, streams stdout, shows rich display data and reports errors", async () => {
    const session = room.session({ notebookId: "python-basics" });
    await session.connect();
    await session.startKernel({ kernelType: "python" });
    expect(session.kernelType).toBe("python");

    const printed = await session.run("print('hello from python')\n6 * 7");
    expect(printed.success).toBe(true);
    expect(printed.stdout).toBe("hello from python\n");
    expect(printed.displayData.map((output) => textOf(output.data["text/plain"]))).toEqual(["42"]);

    const rich = await session.run("from IPython.display import HTML, display\ndisplay(HTML('<b>bold</b>'))");
    expect(rich.displayData).toHaveLength(1);
    expect(textOf(rich.displayData[0]!.data["text/html"])).toBe("<b>bold</b>");

    const failed = await session.run("1 / 0");
    expect(failed.success).toBe(false);
    expect(failed.error?.ename).toBe("ZeroDivisionError");

    const info = await session.kernelInfo();
    expect(info.language_info?.name).toBe("python");
  });

  it("a deno kernel runs TypeScript, streams console.log, shows Deno.jupyter.display output and reports errors", async () => {
    const session = room.session({ notebookId: "deno-basics" });
    await session.connect();
    await session.startKernel({ kernelType: "deno" });
    expect(session.kernelType).toBe("deno");
    expect(session.envSource).toBe("deno");

    const typed = await session.run("const answer: number = 6 * 7;\nconsole.log('hello from deno', answer);\nanswer");
    expect(typed.success).toBe(true);
    expect(typed.stdout).toBe("hello from deno 42\n");
    expect(typed.displayData).toHaveLength(1);
    expect(textOf(typed.displayData[0]!.data["text/plain"])).toContain("42");

    const rich = await session.run("Deno.jupyter.display({ 'text/html': '<b>bold</b>' }, { raw: true });\nDeno.jupyter.md`# Title`");
    expect(rich.displayData.map((output) => output.output_type)).toEqual(["display_data", "execute_result"]);
    expect(textOf(rich.displayData[0]!.data["text/html"])).toBe("<b>bold</b>");
    expect(textOf(rich.displayData[1]!.data["text/markdown"])).toBe("# Title");

    const failed = await session.run("throw new Error('boom')");
    expect(failed.success).toBe(false);
    expect(failed.error).toMatchObject({ ename: "Error", evalue: "boom" });

    const info = await session.kernelInfo();
    expect(info.language_info?.name).toBe("typescript");
    expect(info.env_source).toBe("deno");
  });

  it("interrupt stops a busy cell in both kernels (SIGINT for python, interrupt_request for deno) and each stays usable", async () => {
    for (const [kernelType, busy, after] of [
      ["python", "while True:\n    pass", "'still here'"],
      ["deno", "let spins = 0;\nwhile (true) { spins++ }", "'still here'"],
    ] as const) {
      const session = room.session({ notebookId: `interrupt-${kernelType}` });
      await session.connect();
      await session.startKernel({ kernelType });
      const cell = session.createCell(busy);
      const execution$ = session.execute(cell).pipe(timeout(WAIT_MS), shareReplay());
      const ended = lastValueFrom(execution$);
      await firstValueFrom(execution$.pipe(filter((event) => event.type === "started")));
      await session.interrupt();
      const last = await ended;
      if (last.type !== "result") throw new Error(`the ${kernelType} execution ended with a ${last.type} event`);
      expect(last.result.success).toBe(false);
      const next = await session.run(after);
      expect(next.success).toBe(true);
      expect(textOf(next.displayData[0]!.data["text/plain"])).toContain("still here");
    }
  });

  it("an unknown kernel type is BAD_REQUEST listing python, deno and every installed kernelspec", async () => {
    const session = room.session({ notebookId: "unknown-kernel" });
    await session.connect();
    const error = await expectCode(session.startKernel({ kernelType: "nope" }), "BAD_REQUEST");
    expect(error.message).toContain('"nope"');
    expect(error.message).toMatch(/available: python, deno, .*other-python/);
    expect(session.kernelStarted).toBe(false);
  });

  it("a kernelspec installed in JUPYTER_PATH starts by name and runs with its own argv and env", async () => {
    const session = room.session({ notebookId: "installed-kernelspec" });
    await session.connect();
    await session.startKernel({ kernelType: "other-python" });
    expect(session.envSource).toBe("kernelspec:other-python");
    const result = await session.run("import os, sys\nprint(sys.executable, os.environ['RUNTIMED_SPEC_MARKER'])");
    expect(result.stdout.trim()).toBe("/usr/bin/python3 other-python");
  });
});

describe("kernel lifecycle", () => {
  it("restartKernel keeps the document, forgets variables, restarts the execution count and reports restarting then idle", async () => {
    const session = room.session({ notebookId: "restart" });
    await session.connect();
    const first = await session.run("secret = 41");
    const second = await session.run("secret + 1");
    expect(second.executionCount).toBe(first.executionCount! + 1);
    const cellsBefore = session.getCells().map((cell) => cell.id);

    const statuses = recordStatuses(session.kernelStatus$);
    try {
      await session.restartKernel();
      await firstValueFrom(session.kernelStatus$.pipe(filter((status) => status === "idle"), timeout(WAIT_MS)));
    } finally {
      statuses.stop();
    }
    const restarting = statuses.seen.indexOf("restarting");
    expect(restarting).toBeGreaterThanOrEqual(0);
    expect(statuses.seen.slice(restarting)).toContain("idle");

    expect(session.getCells().map((cell) => cell.id)).toEqual(cellsBefore);
    expect(session.getCell(cellsBefore[1]!).outputs).toHaveLength(1);
    const after = await session.run("secret");
    expect(after.executionCount).toBe(1);
    expect(after.success).toBe(false);
    expect(after.error?.ename).toBe("NameError");
  });

  it("complete, history and kernelInfo answer from the running kernel", async () => {
    const session = room.session({ notebookId: "introspection" });
    await session.connect();
    await session.run("import os\nunusual_variable_name = 3");

    const completion = await session.complete("unusual_var");
    expect(completion.matches).toContain("unusual_variable_name");
    expect(completion.cursorStart).toBe(0);
    expect(completion.cursorEnd).toBe("unusual_var".length);
    const inside = await session.complete("os.pa", 5);
    expect(inside.matches).toEqual(expect.arrayContaining(["path"]));

    const history = await session.history({ n: 10 });
    expect(history.map((entry) => entry.source)).toContain("import os\nunusual_variable_name = 3");
    const searched = await session.history({ pattern: "*unusual*" });
    expect(searched.length).toBeGreaterThanOrEqual(1);

    const info = await session.kernelInfo();
    // busy/idle flips with every request the kernel answers (complete, history): either means running.
    expect(["idle", "busy"]).toContain(info.status);
    expect(info.kernel_type).toBe("python");
    expect(info.pid).toEqual(expect.any(Number));
    expect(info.language_info?.name).toBe("python");
  });

  it("a kernel killed from outside is dead: the running cell ends KERNEL_DIED, queued ones fail, and a new kernel starts", async () => {
    const session = room.session({ notebookId: "killed" });
    await session.connect();
    await session.startKernel();
    const { pid } = await session.kernelInfo();
    expect(pid).toEqual(expect.any(Number));

    const sleeper = session.createCell("import time\nfor _ in range(1200):\n    time.sleep(0.05)");
    const waiting = session.createCell("print('never')");
    const running$ = session.execute(sleeper).pipe(timeout(WAIT_MS), shareReplay());
    const started = firstValueFrom(running$.pipe(filter((event) => event.type === "started")));
    const running = lastValueFrom(running$);
    await firstValueFrom(running$.pipe(filter((event) => event.type === "queued")));
    const queued = session.executeCell(waiting);
    const dead = firstValueFrom(session.kernelStatus$.pipe(filter((status) => status === "dead"), timeout(WAIT_MS)));
    await started;

    process.kill(pid!, "SIGKILL");
    await dead;
    const last = await running;
    if (last.type !== "result") throw new Error(`the execution ended with a ${last.type} event`);
    const runningResult = last.result;
    expect(runningResult.success).toBe(false);
    expect(runningResult.error?.ename).toBe("KERNEL_DIED");
    const queuedResult = await queued;
    expect(queuedResult.success).toBe(false);
    expect(queuedResult.stdout).toBe("");

    await session.startKernel();
    const again = await session.run("1 + 1");
    expect(again.success).toBe(true);
    expect(textOf(again.displayData[0]!.data["text/plain"])).toBe("2");
    expect((await session.kernelInfo()).pid).not.toBe(pid);
  });
});
