import { Observable, ReplaySubject, Subject } from "rxjs";
import { RuntimedError } from "../protocol/errors";
import { endpoint, writeConnectionFile, type ConnectionFile } from "./connection-file";
import { DEFAULT_HEARTBEAT, HeartbeatMonitor, type HeartbeatOptions } from "./heartbeat";
import { IdleWithoutReply } from "./idle-without-reply";
import { KernelChannels } from "./kernel-channels";
import { executeRequestContent, type ExecuteOptions, type KernelExit, type KernelHandle, type RequestChannel } from "./kernel-handle";
import { KernelProcess } from "./kernel-process";
import { reapOnExit } from "./kernel-reaper";
import type { KernelSpec } from "./kernelspec";
import { KernelStartup } from "./kernel-startup";
import { PendingReplies } from "./pending-replies";
import { createMessage, type JupyterMessage } from "./wire";

export type { ExecuteOptions, KernelExit, RequestChannel } from "./kernel-handle";

/** Where and how to start a kernel. */
export interface KernelLaunchOptions {
  spec: KernelSpec;
  /** Directory for the connection file (created 0700). */
  connectionDir: string;
  cwd?: string;
  /** Base environment (default `process.env`); the spec's env goes on top. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first kernel_info_reply (default 30 s). */
  startupTimeoutMs?: number;
  /** Heartbeat timing, or false to rely on process exit alone. */
  heartbeat?: HeartbeatOptions | false;
}

/** Time given to read loops to deliver what a kernel sent just before it exited. */
const EXIT_DRAIN_MS = 50;

/** Starts of a kernel that lost one of its ports to another process, before giving up. */
const PORT_RETRIES = 3;

/**
 * One running Jupyter kernel, spoken to over ZeroMQ: requests with replies on shell and
 * control, every iopub message as a hot stream, and a single `exit$` when it dies.
 *
 * ```ts
 * const kernel = await Kernel.launch({ spec, connectionDir });
 * kernel.iopub$.subscribe((message) => console.log(message.header.msg_type));
 * const { reply } = kernel.executeRequest("1+1");
 * await reply;
 * await kernel.shutdown();
 * ```
 */
export class Kernel implements KernelHandle {
  /** Every iopub message, as it arrives (hot; completes when the kernel is gone). */
  readonly iopub$: Observable<JupyterMessage>;
  /** input_request messages from the stdin channel; answer them with `sendInputReply`. */
  readonly stdin$: Observable<JupyterMessage>;
  /** Emits once when the kernel dies or is shut down, then completes (replayed to late subscribers). */
  readonly exit$: Observable<KernelExit>;

  private readonly channels: KernelChannels;
  private heartbeat: HeartbeatMonitor | undefined;
  private readonly pending = new PendingReplies();
  private readonly iopubSubject = new Subject<JupyterMessage>();
  private readonly stdinSubject = new Subject<JupyterMessage>();
  private readonly exitSubject = new ReplaySubject<KernelExit>(1);
  private readonly startup: KernelStartup;
  private readonly unreap: () => void;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly unanswered: IdleWithoutReply;
  private shuttingDown = false;
  private shutdownPromise: Promise<void> | undefined;
  private dead = false;
  private closedResolve!: () => void;
  private readonly closed = new Promise<void>((resolve) => (this.closedResolve = resolve));

  private constructor(
    readonly spec: KernelSpec,
    private readonly child: KernelProcess,
    private readonly connectionFile: ConnectionFile,
  ) {
    this.channels = new KernelChannels(connectionFile.info, {
      reply: (message) => this.onReply(message),
      stdin: (message) => this.stdinSubject.next(message),
      iopub: (message) => this.onIopub(message),
    });
    this.startup = new KernelStartup((message) => this.channels.send("shell", message), this.channels.session);
    this.unanswered = new IdleWithoutReply(this.pending, this.channels.session);
    this.iopub$ = this.iopubSubject.asObservable();
    this.stdin$ = this.stdinSubject.asObservable();
    this.exit$ = this.exitSubject.asObservable();
    this.unreap = reapOnExit(() => {
      child.signal("SIGKILL");
      connectionFile.disposeSync();
    });
    void child.exited.then(({ code, signal }) => this.onProcessExit(code, signal));
  }

  /**
   * Starts a kernel from `spec` and resolves once it answers kernel_info and its iopub stream
   * is connected. Rejects with `KERNEL_FAILED` (exit code and last output) when the process
   * dies first, `TIMEOUT` when it takes longer than `startupTimeoutMs`.
   */
  static async launch(options: KernelLaunchOptions): Promise<Kernel> {
    // Free ports are found by binding and releasing them, as jupyter_client does; another
    // process can take one before the kernel binds it. Such a start is retried on new ports.
    for (let attempt = 1; ; attempt++) {
      try {
        return await Kernel.launchOnce(options);
      } catch (error) {
        const portTaken = error instanceof RuntimedError && error.code === "KERNEL_FAILED" && /Address already in use/i.test(error.message);
        if (!portTaken || attempt >= PORT_RETRIES) throw error;
      }
    }
  }

  private static async launchOnce(options: KernelLaunchOptions): Promise<Kernel> {
    const connectionFile = await writeConnectionFile(options.connectionDir, options.spec.name);
    let kernelProcess: KernelProcess;
    try {
      kernelProcess = await KernelProcess.spawn({
        spec: options.spec,
        connectionFile: connectionFile.path,
        cwd: options.cwd,
        env: options.env,
      });
    } catch (error) {
      await connectionFile.dispose();
      throw error;
    }
    const heartbeat = options.heartbeat ?? DEFAULT_HEARTBEAT;
    const kernel = new Kernel(options.spec, kernelProcess, connectionFile);
    try {
      await kernel.startup.run(options.startupTimeoutMs ?? 30_000);
    } catch (error) {
      await kernel.shutdown({ graceMs: 0 });
      if (error instanceof RuntimedError && error.code === "TIMEOUT") {
        const output = kernelProcess.lastOutput();
        throw new RuntimedError(
          "TIMEOUT",
          `Kernel ${options.spec.name} (pid ${kernelProcess.pid}) did not answer kernel_info within ` +
            `${options.startupTimeoutMs ?? 30_000} ms${output ? `; its last output:\n${output}` : ""}`,
        );
      }
      throw error;
    }
    // The shell answered, so the kernel listens; stdin and control finish their reconnects
    // within a retry interval. Bounded: a kernel that dies meanwhile is reported by exit$.
    await Promise.race([kernel.channels.whenHandshaken(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    // Only now: a kernel still importing its modules does not answer heartbeats yet.
    if (heartbeat !== false) kernel.watchHeartbeat(heartbeat);
    return kernel;
  }

  /** The kernel's process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** The content of the kernel_info_reply received at startup. */
  get kernelInfo(): Record<string, unknown> {
    return this.startup.kernelInfo ?? {};
  }

  /** True until the kernel has died or been shut down. */
  get alive(): boolean {
    return !this.dead;
  }

  /**
   * Sends an execute_request on shell. `msgId` is the parent id of every iopub message it
   * causes; `reply` resolves with the execute_reply (or rejects `KERNEL_DIED`).
   */
  executeRequest(code: string, options: ExecuteOptions = {}): { msgId: string; reply: Promise<JupyterMessage> } {
    const message = createMessage("execute_request", executeRequestContent(code, options), this.channels.session);
    return { msgId: message.header.msg_id, reply: this.sendAndAwait("shell", message, undefined) };
  }

  /**
   * Sends `msgType` on `channel` and resolves with the reply whose parent is this request
   * (rejects `KERNEL_DIED` if the kernel dies first, `TIMEOUT` after `timeoutMs` if given).
   */
  request(
    channel: RequestChannel,
    msgType: string,
    content: object,
    options: { timeoutMs?: number } = {},
  ): Promise<JupyterMessage> {
    return this.sendAndAwait(channel, createMessage(msgType, content, this.channels.session), options.timeoutMs);
  }

  /** Sends a message that has no reply (comm_msg, comm_open, ...) and returns its msg_id. */
  send(channel: RequestChannel, msgType: string, content: object): string {
    const message = createMessage(msgType, content, this.channels.session);
    this.channels.send(channel, message);
    return message.header.msg_id;
  }

  /** Answers an input_request (from `stdin$`) with `value`. */
  sendInputReply(value: string, parent: JupyterMessage): void {
    this.channels.send("stdin", createMessage("input_reply", { value }, this.channels.session, parent));
  }

  /** Interrupts the running execution: SIGINT or interrupt_request, as the kernelspec says. */
  async interrupt(): Promise<void> {
    if (this.dead) throw this.diedError();
    this.unanswered.interrupted();
    if (this.spec.interruptMode === "message") {
      await this.request("control", "interrupt_request", {}, { timeoutMs: 10_000 });
    } else {
      this.child.signal("SIGINT");
    }
  }

  /**
   * Asks the kernel to shut down, kills it after `graceMs` (default 2000) if it has not exited,
   * closes every socket and removes the connection file. Idempotent; never throws.
   */
  shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.shutdownPromise ??= this.shutdownOnce(options.graceMs ?? 2000);
    return this.shutdownPromise;
  }

  /** Kills the kernel process at once (SIGKILL); `exit$` follows. */
  kill(): void {
    this.child.signal("SIGKILL");
  }

  private watchHeartbeat(options: HeartbeatOptions): void {
    if (this.dead) return;
    const hbEndpoint = endpoint(this.connectionFile.info, "hb_port");
    this.heartbeat = new HeartbeatMonitor(hbEndpoint, options, () =>
      this.die({ code: null, signal: null, reason: "heartbeat" }),
    );
  }

  private async shutdownOnce(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    try {
      if (!this.child.hasExited) {
        if (!this.dead && graceMs > 0) {
          this.send("control", "shutdown_request", { restart: false });
        }
        if (!(await this.child.waitForExit(graceMs))) {
          this.child.signal("SIGKILL");
          await this.child.waitForExit(5000);
        }
      }
    } catch {
      // Shutdown never throws: whatever happened, close everything below.
    }
    const exit = this.child.exit;
    this.die({ code: exit?.code ?? null, signal: exit?.signal ?? "SIGKILL", reason: "exit" });
    await this.closed;
    await this.connectionFile.dispose();
  }

  private sendAndAwait(channel: RequestChannel, message: JupyterMessage, timeoutMs: number | undefined): Promise<JupyterMessage> {
    if (this.dead) {
      const died = Promise.reject(this.diedError());
      died.catch(() => undefined);
      return died;
    }
    const { msg_id: msgId, msg_type: msgType } = message.header;
    return this.pending.expect(msgId, msgType, timeoutMs, () => this.channels.send(channel, message));
  }

  private onReply(message: JupyterMessage): void {
    const parentId = message.parent_header.msg_id;
    if (parentId === undefined || this.startup.takeReply(parentId, message)) return;
    this.pending.settle(parentId, message);
  }

  private onIopub(message: JupyterMessage): void {
    // Startup's kernel_info requests cause busy/idle pairs nobody asked for: keep them out.
    if (this.startup.isOwnIopub(message)) return;
    if (message.header.msg_type === "status" && message.content.execution_state === "idle") {
      this.unanswered.idle(message.parent_header.msg_id);
    }
    this.iopubSubject.next(message);
  }

  private onProcessExit(code: number | null, signal: string | null): void {
    this.unreap();
    if (this.dead) return;
    const exit: KernelExit = { code, signal, reason: "exit" };
    // Let the read loops hand over what the kernel sent just before it exited.
    this.drainTimer = setTimeout(() => this.die(exit), EXIT_DRAIN_MS);
  }

  private die(exit: KernelExit): void {
    if (this.dead) return;
    this.dead = true;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.unanswered.stop();
    if (exit.reason === "heartbeat") this.child.signal("SIGKILL");
    this.heartbeat?.stop();
    this.channels.close();
    this.startup.fail(this.failedError(exit));
    this.pending.rejectAll(this.diedError(exit));
    this.exitSubject.next(exit);
    this.exitSubject.complete();
    this.iopubSubject.complete();
    this.stdinSubject.complete();
    if (!this.shuttingDown) void this.connectionFile.dispose();
    this.closedResolve();
  }

  private describeExit(exit: KernelExit | undefined): string {
    if (this.shuttingDown) return "was shut down";
    if (exit === undefined) return "is not running";
    if (exit.reason === "heartbeat") return "stopped answering its heartbeat and was killed";
    return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  }

  private diedError(exit?: KernelExit): RuntimedError {
    return new RuntimedError("KERNEL_DIED", `Kernel ${this.spec.name} (pid ${this.pid}) ${this.describeExit(exit)}`);
  }

  private failedError(exit: KernelExit): RuntimedError {
    const output = this.child.lastOutput();
    return new RuntimedError(
      "KERNEL_FAILED",
      `Kernel ${this.spec.name} (pid ${this.pid}) ${this.describeExit(exit)} before it was ready` +
        (output ? `; its last output:\n${output}` : ""),
    );
  }
}
