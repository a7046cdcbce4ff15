import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filter, firstValueFrom, takeWhile, timeout, toArray, type Observable } from "rxjs";
import { Kernel, type KernelLaunchOptions } from "../../lib/kernel/kernel";
import { pythonKernelSpec, type KernelSpec } from "../../lib/kernel/kernelspec";
import { findIpykernelPython } from "../../lib/kernel/python-search";
import type { JupyterMessage } from "../../lib/kernel/wire";
import { RuntimedError } from "../../lib/protocol/errors";

jest.setTimeout(60_000);

const WAIT_MS = 15_000;

/** True while `pid` is a live (not zombie) process. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every iopub message caused by `msgId`, up to and including its idle status. */
function messagesOf(kernel: Kernel, msgId: () => string): Promise<JupyterMessage[]> {
  return firstValueFrom(
    kernel.iopub$.pipe(
      filter((message) => message.parent_header.msg_id === msgId()),
      takeWhile((message) => !(message.header.msg_type === "status" && message.content.execution_state === "idle"), true),
      toArray(),
      timeout(WAIT_MS),
    ),
  );
}

function first<T>(source$: Observable<T>): Promise<T> {
  return firstValueFrom(source$.pipe(timeout(WAIT_MS)));
}

function withTimeout<T>(promise: Promise<T>, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe("Kernel against a real ipykernel", () => {
  let python: string;
  let spec: KernelSpec;
  let connectionDir: string;
  const started: Kernel[] = [];

  async function launch(options: Partial<KernelLaunchOptions> = {}): Promise<Kernel> {
    const kernel = await Kernel.launch({ spec, connectionDir, startupTimeoutMs: 30_000, ...options });
    started.push(kernel);
    return kernel;
  }

  /** Runs `code` and gathers its reply and iopub messages. */
  async function run(kernel: Kernel, code: string): Promise<{ msgId: string; reply: JupyterMessage; messages: JupyterMessage[] }> {
    let msgId = "";
    const messages = messagesOf(kernel, () => msgId);
    const request = kernel.executeRequest(code);
    msgId = request.msgId;
    return { msgId, reply: await withTimeout(request.reply), messages: await messages };
  }

  beforeAll(async () => {
    const found = await findIpykernelPython();
    if (found === undefined) throw new Error("no python with ipykernel found");
    python = found;
    spec = pythonKernelSpec(python);
    connectionDir = await mkdtemp(join(tmpdir(), "runtimed-kernels-"));
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((kernel) => kernel.shutdown()));
  });

  afterAll(async () => {
    await rm(connectionDir, { recursive: true, force: true });
  });

  test("1+1 publishes an execute_result for its request and replies ok", async () => {
    const kernel = await launch();
    expect(kernel.kernelInfo).toMatchObject({ status: "ok", implementation: "ipython" });
    const { msgId, reply, messages } = await run(kernel, "1+1");
    expect(reply.parent_header.msg_id).toBe(msgId);
    expect(reply.content).toMatchObject({ status: "ok", execution_count: 1 });
    const types = messages.map((message) => message.header.msg_type);
    expect(types[0]).toBe("status");
    expect(types).toContain("execute_input");
    const result = messages.find((message) => message.header.msg_type === "execute_result");
    expect(result?.content).toMatchObject({ data: { "text/plain": "2" }, execution_count: 1 });
  });

  test("print produces stdout stream output", async () => {
    const kernel = await launch();
    const { reply, messages } = await run(kernel, "print('hello'); print('world')");
    expect(reply.content.status).toBe("ok");
    const text = messages
      .filter((message) => message.header.msg_type === "stream" && message.content.name === "stdout")
      .map((message) => message.content.text)
      .join("");
    expect(text).toBe("hello\nworld\n");
  });

  test("an exception gives an error reply with ename, evalue and traceback", async () => {
    const kernel = await launch();
    const { reply, messages } = await run(kernel, "1/0");
    expect(reply.content).toMatchObject({ status: "error", ename: "ZeroDivisionError", evalue: "division by zero" });
    expect(Array.isArray(reply.content.traceback)).toBe(true);
    const error = messages.find((message) => message.header.msg_type === "error");
    expect(error?.content.ename).toBe("ZeroDivisionError");
  });

  test("interrupt stops a sleeping loop with a KeyboardInterrupt quickly", async () => {
    const kernel = await launch();
    // A loop of short sleeps: CPython runs signal handlers in the main thread only when it wakes.
    const { msgId, reply } = kernel.executeRequest("import time\nwhile True:\n    time.sleep(0.05)", { stopOnError: false });
    await first(kernel.iopub$.pipe(filter((m) => m.parent_header.msg_id === msgId && m.header.msg_type === "execute_input")));
    await kernel.interrupt();
    expect((await withTimeout(reply, 10_000)).content).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    expect((await run(kernel, "2+2")).reply.content.status).toBe("ok");
  });

  test("an interrupt landing before the code starts still ends the request (ipykernel never replies to it)", async () => {
    const lateStart = { ...spec, argv: [python, "-Xfrozen_modules=off", join(__dirname, "fixtures", "late-start-kernel.py"), "-f", "{connection_file}"] };
    const kernel = await launch({ spec: lateStart });
    const { msgId, reply } = kernel.executeRequest("print('never runs')", { stopOnError: false });
    const iopub = messagesOf(kernel, () => msgId);
    await first(kernel.iopub$.pipe(filter((m) => m.parent_header.msg_id === msgId && m.header.msg_type === "execute_input")));
    await kernel.interrupt();
    const answer = await withTimeout(reply, 10_000);
    expect(answer.content).toMatchObject({ status: "error", ename: "KeyboardInterrupt", evalue: "Interrupted before the code started" });
    expect(answer.metadata).toEqual({ runtimed_synthesized: true });
    expect((await iopub).map((m) => m.header.msg_type)).not.toContain("stream");
    expect((await run(kernel, "2+2")).reply.content.status).toBe("ok");
  });

  test("a kernel that lost a port to another process is started again on new ports", async () => {
    const markerDir = await mkdtemp(join(tmpdir(), "runtimed-port-taken-"));
    const marker = join(markerDir, "failed-once");
    const portTakenOnce = {
      ...spec,
      argv: [python, "-Xfrozen_modules=off", join(__dirname, "fixtures", "port-taken-once-kernel.py"), "-f", "{connection_file}"],
      env: { RUNTIMED_TEST_MARKER: marker },
    };
    try {
      const kernel = await launch({ spec: portTakenOnce });
      expect((await run(kernel, "1+1")).reply.content.status).toBe("ok");
    } finally {
      await rm(markerDir, { recursive: true, force: true });
    }
  });

  test("interrupt by message works for kernelspecs with interrupt_mode message", async () => {
    const kernel = await launch({ spec: { ...spec, interruptMode: "message" } });
    // Short sleeps, as in the test above: CPython runs signal handlers in the main thread only
    // when it wakes, and a SIGINT the kernel delivers to another thread (ipykernel sends it from
    // its control thread) leaves a single long sleep running to its end.
    const { msgId, reply } = kernel.executeRequest("import time\nwhile True:\n    time.sleep(0.05)", { stopOnError: false });
    await first(kernel.iopub$.pipe(filter((m) => m.parent_header.msg_id === msgId && m.header.msg_type === "execute_input")));
    await withTimeout(kernel.interrupt());
    expect((await withTimeout(reply, 10_000)).content).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
  });

  test("input() sends an input_request on stdin$ and sendInputReply answers it", async () => {
    const kernel = await launch();
    const inputRequest = first(kernel.stdin$);
    let msgId = "";
    const messages = messagesOf(kernel, () => msgId);
    const request = kernel.executeRequest("name = input('name? ')\nprint('hi', name)", { allowStdin: true });
    msgId = request.msgId;
    const asked = await inputRequest;
    expect(asked.header.msg_type).toBe("input_request");
    expect(asked.content).toMatchObject({ prompt: "name? ", password: false });
    kernel.sendInputReply("ada", asked);
    expect((await withTimeout(request.reply)).content.status).toBe("ok");
    const stdout = (await messages).filter((m) => m.header.msg_type === "stream").map((m) => m.content.text);
    expect(stdout.join("")).toContain("hi ada");
  });

  test("os._exit makes exit$ emit and the pending reply reject with KERNEL_DIED", async () => {
    const kernel = await launch();
    const exit = first(kernel.exit$);
    const { reply } = kernel.executeRequest("import os\nos._exit(1)");
    await expect(withTimeout(reply)).rejects.toMatchObject({ code: "KERNEL_DIED" });
    expect(await exit).toEqual({ code: 1, signal: null, reason: "exit" });
    expect(kernel.alive).toBe(false);
    await expect(kernel.request("shell", "kernel_info_request", {})).rejects.toBeInstanceOf(RuntimedError);
    await expect(kernel.interrupt()).rejects.toMatchObject({ code: "KERNEL_DIED" });
    // exit$ replays to late subscribers.
    expect((await first(kernel.exit$)).code).toBe(1);
  });

  test("complete_request answers with matches", async () => {
    const kernel = await launch();
    const code = "import os\nos.pa";
    const reply = await kernel.request("shell", "complete_request", { code, cursor_pos: code.length }, { timeoutMs: WAIT_MS });
    expect(reply.header.msg_type).toBe("complete_reply");
    expect(reply.content.status).toBe("ok");
    expect(reply.content.matches).toEqual(expect.arrayContaining(["path"]));
    expect(reply.content.cursor_end).toBe(code.length);
  });

  test("send delivers a message without a reply, and requests can run concurrently", async () => {
    const kernel = await launch();
    const msgId = kernel.send("shell", "comm_info_request", {});
    expect(typeof msgId).toBe("string");
    const [info, history] = await Promise.all([
      kernel.request("shell", "kernel_info_request", {}, { timeoutMs: WAIT_MS }),
      kernel.request("shell", "history_request", { output: false, raw: true, hist_access_type: "tail", n: 1 }, { timeoutMs: WAIT_MS }),
    ]);
    expect(info.header.msg_type).toBe("kernel_info_reply");
    expect(history.header.msg_type).toBe("history_reply");
  });

  test("shutdown leaves no process, no connection file, and is idempotent", async () => {
    const kernel = await launch();
    const { pid } = kernel;
    expect(isRunning(pid)).toBe(true);
    const exit = first(kernel.exit$);
    await Promise.all([kernel.shutdown(), kernel.shutdown()]);
    expect(() => process.kill(pid, 0)).toThrow();
    expect((await exit).reason).toBe("exit");
    expect(await readdir(connectionDir)).toEqual([]);
    await kernel.shutdown();
    await expect(kernel.executeRequest("1").reply).rejects.toMatchObject({ code: "KERNEL_DIED" });
  });

  test("a busy kernel keeps answering its heartbeat", async () => {
    const kernel = await launch({ heartbeat: { intervalMs: 200, maxMisses: 3 } });
    const { reply } = await run(kernel, "import time\nt = time.time()\nwhile time.time() - t < 2: pass\ntime.sleep(1)");
    expect(reply.content.status).toBe("ok");
    expect(kernel.alive).toBe(true);
  });

  test("a kernel that stops answering heartbeats is declared dead and killed", async () => {
    const kernel = await launch({ heartbeat: { intervalMs: 200, maxMisses: 3 } });
    const { pid } = kernel;
    const exit = first(kernel.exit$);
    const { reply } = kernel.executeRequest("1");
    await withTimeout(reply);
    const pending = kernel.request("shell", "kernel_info_request", {});
    process.kill(pid, "SIGSTOP");
    expect(await exit).toEqual({ code: null, signal: null, reason: "heartbeat" });
    await expect(withTimeout(pending)).rejects.toMatchObject({ code: "KERNEL_DIED" });
    await eventually(() => !isRunning(pid));
  });

  test("a kernel process that exits before it is ready fails the launch with its code and output", async () => {
    const failing: KernelSpec = { ...spec, argv: [python, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"] };
    const launching = Kernel.launch({ spec: failing, connectionDir });
    await expect(launching).rejects.toMatchObject({ code: "KERNEL_FAILED" });
    await expect(launching).rejects.toThrow(/code 3[\s\S]*boom/);
    expect(await readdir(connectionDir)).toEqual([]);
  });

  test("a command that does not exist fails the launch", async () => {
    const missing: KernelSpec = { ...spec, argv: [join(connectionDir, "no-such-kernel"), "{connection_file}"] };
    await expect(Kernel.launch({ spec: missing, connectionDir })).rejects.toMatchObject({ code: "KERNEL_FAILED" });
    expect(await readdir(connectionDir)).toEqual([]);
  });

  test("a kernel that never answers times out and is killed", async () => {
    const silent: KernelSpec = { ...spec, argv: [python, "-c", "import time; print('sleeping', flush=True); time.sleep(30)"] };
    await expect(Kernel.launch({ spec: silent, connectionDir, startupTimeoutMs: 700 })).rejects.toMatchObject({
      code: "TIMEOUT",
      message: expect.stringContaining("sleeping"),
    });
    expect(await readdir(connectionDir)).toEqual([]);
  });

  test("kernels die with the node process that started them", async () => {
    const script = `
      const { Kernel } = require(${JSON.stringify(join(__dirname, "../../lib/kernel/kernel"))});
      const { pythonKernelSpec } = require(${JSON.stringify(join(__dirname, "../../lib/kernel/kernelspec"))});
      Kernel.launch({ spec: pythonKernelSpec(${JSON.stringify(python)}), connectionDir: ${JSON.stringify(connectionDir)} })
        .then((kernel) => { process.stdout.write(String(kernel.pid) + "\\n"); process.exit(0); });
    `;
    const tsx = join(__dirname, "../../node_modules/.bin/tsx");
    const child = spawn(tsx, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await withTimeout(new Promise<number | null>((resolve) => child.on("exit", resolve)), 45_000);
    expect(code).toBe(0);
    const pid = Number(output.trim());
    expect(pid).toBeGreaterThan(0);
    await eventually(() => !isRunning(pid));
    expect(await readdir(connectionDir)).toEqual([]);
  });
});
