/**
 * The floor: the least code that speaks the Jupyter wire protocol to an ipykernel over ZeroMQ.
 * It imports nothing from lib/ so it stays an independent baseline for every metric.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as zmq from "zeromq";

const DELIMITER = "<IDS|MSG>";

/** The interpreter every client's kernel runs (the system one, which has ipykernel). */
export const KERNEL_PYTHON = "/usr/bin/python3";

/** The kernel command line (without the connection file) the floor and jupyter_server's kernelspec use. */
export const KERNEL_ARGV = [KERNEL_PYTHON, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f"];

/** A message as the floor reads it: only what the metrics need. */
export interface FloorMessage {
  msgType: string;
  parentId: string | undefined;
  content: Record<string, unknown>;
}

/** What one execution produced, gathered the way a client would keep it. */
export interface FloorExecution {
  status: string;
  stdout: string;
  results: number;
  /** ms from send to the first execute_result (NaN when none came). */
  firstResultMs: number;
  /** Wall-clock time (ms since the epoch) each stdout chunk arrived, with its text. */
  streamArrivals: { atEpochMs: number; text: string }[];
}

interface Pending {
  replied: boolean;
  idle: boolean;
  execution: FloorExecution;
  sentAt: number;
  resolve(execution: FloorExecution): void;
  reject(error: Error): void;
}

/** `count` TCP ports on 127.0.0.1 free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
      const server = net.createServer();
      server.listen(0, "127.0.0.1", () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** One ipykernel launched and driven by the floor client. */
export class FloorKernel {
  private readonly session = randomUUID();
  private readonly pending = new Map<string, Pending>();
  private readonly shellReplies = new Map<string, (content: Record<string, unknown>) => void>();
  private closed = false;
  private iopubAlive = false;

  private constructor(
    private readonly process: ChildProcess,
    private readonly key: string,
    private readonly shell: zmq.Dealer,
    private readonly control: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
    private readonly connectionFile: string,
  ) {
    void this.readShell();
    void this.readIopub();
  }

  /** Launches a kernel and resolves once shell and iopub both answer (a kernel_info round trip). */
  static async launch(workDir: string): Promise<FloorKernel> {
    const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = await freePorts(5);
    const key = randomBytes(32).toString("hex");
    const connectionFile = path.join(workDir, `floor-${randomUUID()}.json`);
    fs.writeFileSync(
      connectionFile,
      JSON.stringify({
        transport: "tcp", ip: "127.0.0.1", signature_scheme: "hmac-sha256", key,
        shell_port: shellPort, iopub_port: iopubPort, stdin_port: stdinPort, control_port: controlPort, hb_port: hbPort,
      }),
      { mode: 0o600 },
    );
    const [command, ...args] = KERNEL_ARGV;
    const child = spawn(command!, [...args, connectionFile], {
      env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1" },
      stdio: "ignore",
    });
    const url = (port: number | undefined) => `tcp://127.0.0.1:${port}`;
    const shell = new zmq.Dealer({ linger: 0 });
    const control = new zmq.Dealer({ linger: 0 });
    const iopub = new zmq.Subscriber({ linger: 0 });
    shell.connect(url(shellPort));
    control.connect(url(controlPort));
    iopub.connect(url(iopubPort));
    iopub.subscribe();
    const kernel = new FloorKernel(child, key, shell, control, iopub, connectionFile);
    await kernel.waitReady();
    return kernel;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Runs `code`; resolves once the execute_reply and the idle status have both arrived. */
  execute(code: string): Promise<FloorExecution> {
    return new Promise((resolve, reject) => {
      const msgId = this.send(this.shell, "execute_request", {
        code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false,
      });
      this.pending.set(msgId, {
        replied: false, idle: false, sentAt: performance.now(), resolve, reject,
        execution: { status: "", stdout: "", results: 0, firstResultMs: NaN, streamArrivals: [] },
      });
    });
  }

  /** A shell request and its reply, nothing on iopub awaited (kernel_info, complete...). */
  request(msgType: string, content: object = {}): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.shellReplies.set(this.send(this.shell, msgType, content), resolve));
  }

  /** Asks the kernel to exit, then kills it if it lingers; closes every socket. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.send(this.control, "shutdown_request", { restart: false });
    const exited = new Promise<void>((resolve) => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) resolve();
      else this.process.once("exit", () => resolve());
    });
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
    for (const socket of [this.shell, this.control, this.iopub]) socket.close();
    fs.rmSync(this.connectionFile, { force: true });
    for (const pending of this.pending.values()) pending.reject(new Error("floor kernel shut down"));
  }

  /** Last-resort synchronous kill (process exit). */
  kill(): void {
    if (this.process.exitCode === null) this.process.kill("SIGKILL");
    fs.rmSync(this.connectionFile, { force: true });
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    // iopub is a SUB socket: until its subscription reaches the kernel, messages are dropped,
    // so keep asking for kernel_info until an iopub status shows up too.
    while (!this.iopubAlive) {
      if (Date.now() > deadline) throw new Error("floor kernel did not answer within 30 s");
      if (this.process.exitCode !== null) throw new Error(`floor kernel exited with ${this.process.exitCode}`);
      await Promise.race([this.request("kernel_info_request"), new Promise((resolve) => setTimeout(resolve, 250))]);
      if (!this.iopubAlive) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private sign(parts: string[]): string {
    const hmac = createHmac("sha256", this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest("hex");
  }

  private send(socket: zmq.Dealer, msgType: string, content: object): string {
    const msgId = randomUUID();
    const header = JSON.stringify({ msg_id: msgId, msg_type: msgType, session: this.session, username: "floor", date: new Date().toISOString(), version: "5.3" });
    const parts = [header, "{}", "{}", JSON.stringify(content)];
    void socket.send([DELIMITER, this.sign(parts), ...parts]);
    return msgId;
  }

  private decode(frames: Buffer[]): FloorMessage | undefined {
    let start = 0;
    while (start < frames.length && frames[start]!.toString("latin1") !== DELIMITER) start++;
    const [signature, header, parent, metadata, content] = frames.slice(start + 1, start + 6).map((frame) => frame.toString("utf8"));
    if (content === undefined || this.sign([header!, parent!, metadata!, content]) !== signature) return undefined;
    const headerJson = JSON.parse(header!) as { msg_type: string };
    const parentJson = JSON.parse(parent!) as { msg_id?: string };
    return { msgType: headerJson.msg_type, parentId: parentJson.msg_id, content: JSON.parse(content) as Record<string, unknown> };
  }

  private async readShell(): Promise<void> {
    try {
      for await (const frames of this.shell) {
        const message = this.decode(frames);
        if (!message?.parentId) continue;
        const waiter = this.shellReplies.get(message.parentId);
        if (waiter) {
          this.shellReplies.delete(message.parentId);
          waiter(message.content);
          continue;
        }
        const pending = this.pending.get(message.parentId);
        if (!pending) continue;
        pending.replied = true;
        pending.execution.status = String(message.content.status);
        this.settle(message.parentId, pending);
      }
    } catch {
      // socket closed on shutdown
    }
  }

  private async readIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        const message = this.decode(frames);
        if (!message) continue;
        this.iopubAlive = true;
        const pending = message.parentId ? this.pending.get(message.parentId) : undefined;
        if (!pending) continue;
        const execution = pending.execution;
        if (message.msgType === "stream" && message.content.name === "stdout") {
          execution.stdout += String(message.content.text);
          execution.streamArrivals.push({ atEpochMs: performance.timeOrigin + performance.now(), text: String(message.content.text) });
        } else if (message.msgType === "execute_result") {
          if (execution.results++ === 0) execution.firstResultMs = performance.now() - pending.sentAt;
        } else if (message.msgType === "status" && message.content.execution_state === "idle") {
          pending.idle = true;
          this.settle(message.parentId!, pending);
        }
      }
    } catch {
      // socket closed on shutdown
    }
  }

  private settle(msgId: string, pending: Pending): void {
    if (!pending.replied || !pending.idle) return;
    this.pending.delete(msgId);
    pending.resolve(pending.execution);
  }
}
