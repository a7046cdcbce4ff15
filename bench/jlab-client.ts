/**
 * The third client: `@jupyterlab/services` (what a TypeScript user would otherwise pick) talking
 * to a real `jupyter_server`, which drives the same ipykernel through the same kernelspec argv
 * as the floor. The server runs with its own runtime, data and config dirs and a random token.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { KernelAPI, KernelConnection, ServerConnection, type Kernel, type KernelMessage } from "@jupyterlab/services";
import WebSocket from "ws";
import { freePorts, KERNEL_ARGV, KERNEL_PYTHON, type FloorExecution } from "./floor-client";
import { killTree } from "./processes";
import { sleep } from "./stats";

const KERNEL_NAME = "bench-python";

/** How the server is started; reported under the table. */
export const JLAB_SERVER_NOTE =
  "@jupyterlab/services 7 → jupyter_server (Debian python3-jupyter-server) over its kernel WebSocket, run with --ServerApp.iopub_msg_rate_limit=0 --ServerApp.iopub_data_rate_limit=0 (rate limiting off: the defaults, 1000 msgs/s and 1 MB/s, drop output on the 2000-print and 5 MB rows)";

/**
 * @jupyterlab/services reports each WebSocket start and kernel status change with console.debug;
 * in a terminal table those lines are noise. Everything else still goes through.
 */
let quieted = false;
function quietJlabDebug(): void {
  if (quieted) return;
  quieted = true;
  const debug = console.debug.bind(console);
  console.debug = (...args: unknown[]) => {
    if (typeof args[0] === "string" && /^(Starting WebSocket|Kernel: )/.test(args[0])) return;
    debug(...args);
  };
}

/** A running jupyter_server and the settings to reach it, or why there is none. */
export class JlabServer {
  private kernels = new Set<Kernel.IKernelConnection>();

  private constructor(
    private readonly child: ChildProcess | undefined,
    readonly settings: ServerConnection.ISettings | undefined,
    /** Null when the server answers; otherwise why the column is "n/a". */
    readonly unavailable: string | null,
    readonly version: string,
  ) {}

  get available(): boolean {
    return this.unavailable === null;
  }

  /** Starts jupyter_server on a free port with a kernelspec for the floor's argv; n/a when it cannot. */
  static async start(workDir: string): Promise<JlabServer> {
    quietJlabDebug();
    const root = path.join(workDir, "jupyter-server");
    const dirs = { JUPYTER_RUNTIME_DIR: "runtime", JUPYTER_DATA_DIR: "data", JUPYTER_CONFIG_DIR: "config" };
    const env: NodeJS.ProcessEnv = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1" };
    for (const [name, dir] of Object.entries(dirs)) {
      env[name] = path.join(root, dir);
      fs.mkdirSync(env[name]!, { recursive: true });
    }
    // JUPYTER_PATH from the environment could shadow our kernelspec; only ours is wanted.
    delete env.JUPYTER_PATH;
    const specDir = path.join(env.JUPYTER_DATA_DIR!, "kernels", KERNEL_NAME);
    fs.mkdirSync(specDir, { recursive: true });
    fs.writeFileSync(
      path.join(specDir, "kernel.json"),
      JSON.stringify({ argv: [...KERNEL_ARGV, "{connection_file}"], display_name: "bench python", language: "python", env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" } }),
    );
    const [port] = await freePorts(1);
    const token = randomBytes(24).toString("hex");
    const args = [
      "-m", "jupyter_server", "--allow-root", "--no-browser", "--ip", "127.0.0.1", `--port=${port}`, "--port-retries=0",
      `--ServerApp.token=${token}`, `--ServerApp.root_dir=${root}`,
      "--ServerApp.iopub_msg_rate_limit=0", "--ServerApp.iopub_data_rate_limit=0",
    ];
    const log = fs.openSync(path.join(root, "server.log"), "w");
    const child = spawn(KERNEL_PYTHON, args, { cwd: root, env, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    const baseUrl = `http://127.0.0.1:${port}/`;
    const settings = ServerConnection.makeSettings({
      baseUrl,
      wsUrl: `ws://127.0.0.1:${port}/`,
      token,
      appendToken: true,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      fetch: globalThis.fetch.bind(globalThis),
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) {
        const tail = fs.readFileSync(path.join(root, "server.log"), "utf8").trim().split("\n").slice(-3).join(" | ");
        return new JlabServer(undefined, undefined, `jupyter_server exited with ${child.exitCode}: ${tail}`, "");
      }
      try {
        const response = await fetch(`${baseUrl}api/kernelspecs`, { headers: { Authorization: `token ${token}` } });
        if (response.ok) {
          const specs = (await response.json()) as { kernelspecs: Record<string, unknown> };
          if (!specs.kernelspecs[KERNEL_NAME]) throw new Error(`jupyter_server does not list the ${KERNEL_NAME} kernelspec`);
          const api = (await (await fetch(`${baseUrl}api`)).json()) as { version: string };
          return new JlabServer(child, settings, null, api.version);
        }
      } catch (error) {
        if ((error as Error).message.includes("kernelspec")) throw error;
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        return new JlabServer(undefined, undefined, "jupyter_server did not answer within 60 s", "");
      }
      await sleep(100);
    }
  }

  /** Starts a kernel (REST) and connects to it (WebSocket); resolves once it answers kernel_info. */
  async startKernel(): Promise<Kernel.IKernelConnection> {
    const model = await KernelAPI.startNew({ name: KERNEL_NAME }, this.settings);
    const kernel = new KernelConnection({ model, serverSettings: this.settings, handleComms: false });
    this.kernels.add(kernel);
    await kernel.info;
    return kernel;
  }

  /** Shuts a kernel down through the server and disposes the connection. */
  async shutdownKernel(kernel: Kernel.IKernelConnection): Promise<void> {
    this.kernels.delete(kernel);
    try {
      await kernel.shutdown();
    } finally {
      kernel.dispose();
    }
  }

  /** Runs `code`; resolves once the execute_reply and the idle status have both arrived (`future.done`). */
  static async execute(kernel: Kernel.IKernelConnection, code: string): Promise<FloorExecution> {
    const sentAt = performance.now();
    const execution: FloorExecution = { status: "", stdout: "", results: 0, firstResultMs: NaN, streamArrivals: [] };
    const future = kernel.requestExecute({ code, stop_on_error: false, allow_stdin: false });
    future.onIOPub = (message: KernelMessage.IIOPubMessage) => {
      const type = message.header.msg_type;
      if (type === "stream") {
        const content = message.content as KernelMessage.IStreamMsg["content"];
        if (content.name !== "stdout") return;
        execution.stdout += content.text;
        execution.streamArrivals.push({ atEpochMs: performance.timeOrigin + performance.now(), text: content.text });
      } else if (type === "execute_result") {
        if (execution.results++ === 0) execution.firstResultMs = performance.now() - sentAt;
      }
    };
    const reply = await future.done;
    execution.status = reply.content.status;
    future.dispose();
    return execution;
  }

  /** Shuts every kernel down and stops the server (POST /api/shutdown), killing what lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.settings) return;
    await Promise.all([...this.kernels].map((kernel) => this.shutdownKernel(kernel).catch(() => undefined)));
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await fetch(`${this.settings.baseUrl}api/shutdown`, { method: "POST", headers: { Authorization: `token ${this.settings.token}` } }).catch(() => child.kill("SIGTERM"));
    const timer = setTimeout(() => this.kill(), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Last-resort synchronous kill of the server and the kernels it started. */
  kill(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.pid !== undefined) killTree(child.pid);
  }
}
