import { randomUUID } from "node:crypto";
import { Observable, ReplaySubject, Subject } from "rxjs";
import { IdleWithoutReply } from "../kernel/idle-without-reply";
import { executeRequestContent, type ExecuteOptions, type KernelExit, type KernelHandle, type RequestChannel } from "../kernel/kernel-handle";
import { KernelStartup } from "../kernel/kernel-startup";
import { PendingReplies } from "../kernel/pending-replies";
import { createMessage, type JupyterMessage } from "../kernel/wire";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import { ChannelsOpenError, type ChannelsProtocol } from "./gateway-channels";
import { GatewayConnection, type GatewayLog } from "./gateway-connection";
import type { GatewayHttp, GatewayKernelSpec } from "./gateway-http";
import { lostEndMessages } from "./lost-end";
import type { ChannelMessage } from "./ws-codec";

export type { GatewayLog } from "./gateway-connection";

/** A kernel the gateway started, to connect to. */
export interface GatewayKernelOptions {
  http: GatewayHttp;
  kernelId: string;
  spec: GatewayKernelSpec;
  /** How long the kernel may take to answer kernel_info once connected (default 60 s). */
  startupTimeoutMs?: number;
  log?: GatewayLog;
}

/** How long the DELETE of a shutdown may take before the kernel is given up for gone. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** After the probe that follows a reconnect is answered, how long its idle status may trail. */
const PROBE_IDLE_MS = 2000;

/**
 * A kernel on a Jupyter Server / Enterprise Gateway, behind the same `KernelHandle` as a local
 * one: messages over `/api/kernels/<id>/channels`, interrupt and restart over REST, shutdown by
 * DELETE. A dropped WebSocket is reopened with backoff (same session id, so the server replays
 * what it buffered); a kernel the server reports dead, restarted behind our back, or no longer
 * knows ends `exit$` like a local kernel's death.
 */
export class GatewayKernel implements KernelHandle {
  readonly iopub$: Observable<JupyterMessage>;
  readonly stdin$: Observable<JupyterMessage>;
  readonly exit$: Observable<KernelExit>;
  readonly spec: GatewayKernelSpec;
  readonly pid = null;
  /** The kernel's id on the gateway. */
  readonly id: string;

  private readonly http: GatewayHttp;
  private readonly session = randomUUID();
  private readonly pending = new PendingReplies();
  private readonly unanswered: IdleWithoutReply;
  private readonly iopubSubject = new Subject<JupyterMessage>();
  private readonly stdinSubject = new Subject<JupyterMessage>();
  private readonly exitSubject = new ReplaySubject<KernelExit>(1);
  /** execute_requests whose idle status has not arrived, and whether their reply has. */
  private readonly executes = new Map<string, { replied: boolean }>();
  /** Callbacks waiting for the idle status of a request, by its msg_id. */
  private readonly idleWaiters = new Map<string, () => void>();
  private readonly connection: GatewayConnection;
  /** Executions under way when the connection dropped: their end may be lost in the gap. */
  private suspects = new Set<string>();
  private startup: KernelStartup | undefined;
  private info: Record<string, unknown> = {};
  /** Our own restart or shutdown is under way: the server's restart and shutdown messages are expected. */
  private ownLifecycle = false;
  private dead = false;
  private shutdownPromise: Promise<void> | undefined;

  private constructor(private readonly options: GatewayKernelOptions) {
    this.http = options.http;
    this.id = options.kernelId;
    this.spec = options.spec;
    this.unanswered = new IdleWithoutReply(this.pending, this.session);
    this.connection = new GatewayConnection(
      this.http,
      this.id,
      this.session,
      {
        message: (incoming) => this.receive(incoming),
        dropped: () => (this.suspects = new Set(this.executes.keys())),
        restored: () => this.recoverLostEnds(this.suspects),
        lost: (what, deleteOnGateway) => this.die(`Kernel ${this.spec.name} ${what}`, deleteOnGateway),
      },
      options.log,
    );
    this.iopub$ = this.iopubSubject.asObservable();
    this.stdin$ = this.stdinSubject.asObservable();
    this.exit$ = this.exitSubject.asObservable();
  }

  /**
   * Connects to a kernel the gateway started and resolves once it answers kernel_info over the
   * channels WebSocket. On failure the kernel is shut down on the gateway and the promise
   * rejects KERNEL_FAILED naming the gateway.
   */
  static async connect(options: GatewayKernelOptions): Promise<GatewayKernel> {
    const kernel = new GatewayKernel(options);
    try {
      await kernel.connection.open();
      await kernel.handshake();
    } catch (error) {
      await kernel.shutdown();
      throw kernel.failure(error, "could not be connected to");
    }
    return kernel;
  }

  /** Which encoding the channels connection speaks (`v1` where the server offers it). */
  get channelsProtocol(): ChannelsProtocol {
    return this.connection.protocol;
  }

  get kernelInfo(): Record<string, unknown> {
    return this.info;
  }

  get alive(): boolean {
    return !this.dead;
  }

  executeRequest(code: string, options: ExecuteOptions = {}): { msgId: string; reply: Promise<JupyterMessage> } {
    const message = createMessage("execute_request", executeRequestContent(code, options), this.session);
    const msgId = message.header.msg_id;
    if (!this.dead) this.executes.set(msgId, { replied: false });
    return { msgId, reply: this.sendAndAwait("shell", message, undefined) };
  }

  request(channel: RequestChannel, msgType: string, content: object, options: { timeoutMs?: number } = {}): Promise<JupyterMessage> {
    return this.sendAndAwait(channel, createMessage(msgType, content, this.session), options.timeoutMs);
  }

  send(channel: RequestChannel, msgType: string, content: object): string {
    const message = createMessage(msgType, content, this.session);
    this.transmit(channel, message);
    return message.header.msg_id;
  }

  sendInputReply(value: string, parent: JupyterMessage): void {
    this.transmit("stdin", createMessage("input_reply", { value }, this.session, parent));
  }

  /** Interrupts through `POST /api/kernels/<id>/interrupt`; the server signals or messages the kernel as its spec says. */
  async interrupt(): Promise<void> {
    if (this.dead) throw this.diedError("is not running");
    this.unanswered.interrupted();
    await this.http.interruptKernel(this.id);
  }

  /**
   * Restarts through `POST /api/kernels/<id>/restart`: same kernel id and connection, a fresh
   * process (state gone, execution count back to 1). Requests in flight fail KERNEL_DIED.
   */
  async restart(startupTimeoutMs?: number): Promise<void> {
    if (this.dead) throw this.diedError("is not running");
    this.ownLifecycle = true;
    this.pending.rejectAll(this.diedError("was restarted"));
    this.executes.clear();
    try {
      await this.http.restartKernel(this.id);
      // As JupyterLab does: a restarted kernel may listen on other ports (a new pod, say).
      await this.connection.reopen();
      await this.handshake(startupTimeoutMs);
    } catch (error) {
      const failure = this.failure(error, "could not be restarted on");
      this.die(failure.message, true);
      throw failure;
    } finally {
      this.ownLifecycle = false;
    }
  }

  /** Shuts the kernel down on the gateway (DELETE) and closes the connection. Idempotent; never throws. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.ownLifecycle = true;
      // No reconnects while the gateway takes the kernel (and its WebSocket) away.
      this.connection.close();
      if (!this.dead) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS)));
        await Promise.race([this.http.shutdownKernel(this.id).catch(() => undefined), timeout]);
        clearTimeout(timer);
      }
      this.die(`Kernel ${this.spec.name} on the gateway at ${this.http.config.url} was shut down`, false, "exit");
    })();
    return this.shutdownPromise;
  }

  /** Gives the kernel up at once and asks the gateway to delete it, without waiting. */
  kill(): void {
    this.die(`Kernel ${this.spec.name} on the gateway at ${this.http.config.url} was stopped`, !this.dead, "exit");
  }

  // -- connection ------------------------------------------------------------------------------

  /**
   * kernel_info until it is answered and our own iopub message has come through. The startup
   * stays to swallow the replies and statuses of its resent requests that trail it.
   */
  private async handshake(timeoutMs = this.options.startupTimeoutMs ?? 60_000): Promise<void> {
    const startup = new KernelStartup((message) => this.transmit("shell", message), this.session, true);
    this.startup = startup;
    await startup.run(timeoutMs);
    this.info = startup.kernelInfo ?? {};
  }

  /**
   * After a reconnect, asks kernel_info: the kernel answers shell requests in order, so once
   * that reply and its idle status are here, an execution from before the drop that still has
   * no end lost it in the gap (the server replays what it buffered before this reply).
   */
  private recoverLostEnds(suspects: Set<string>): void {
    if (![...suspects].some((msgId) => this.executes.has(msgId))) return;
    const probe = createMessage("kernel_info_request", {}, this.session);
    const idle = new Promise<void>((resolve) => this.idleWaiters.set(probe.header.msg_id, resolve));
    this.sendAndAwait("shell", probe, undefined)
      .then(() => Promise.race([idle, new Promise((resolve) => setTimeout(resolve, PROBE_IDLE_MS).unref())]))
      .then(
        () => {
          this.idleWaiters.delete(probe.header.msg_id);
          for (const msgId of suspects) {
            const execute = this.executes.get(msgId);
            if (!execute || this.dead) continue;
            this.options.log?.warn("an execution lost its end in a gateway connection gap", { kernel_id: this.id, msg_id: msgId, replied: execute.replied });
            const { iopub, reply } = lostEndMessages(msgId, execute.replied, this.session);
            if (reply) this.receive({ channel: "shell", message: reply });
            for (const message of iopub) this.receive({ channel: "iopub", message });
          }
        },
        () => this.idleWaiters.delete(probe.header.msg_id),
      );
  }

  private transmit(channel: string, message: JupyterMessage): void {
    if (!this.dead) this.connection.send(channel, message);
  }

  private sendAndAwait(channel: RequestChannel, message: JupyterMessage, timeoutMs: number | undefined): Promise<JupyterMessage> {
    if (this.dead) {
      const died = Promise.reject(this.diedError("is not running"));
      died.catch(() => undefined);
      return died;
    }
    return this.pending.expect(message.header.msg_id, message.header.msg_type, timeoutMs, () => this.transmit(channel, message));
  }

  // -- incoming --------------------------------------------------------------------------------

  private receive({ channel, message }: ChannelMessage): void {
    if (this.dead) return;
    const parentId = message.parent_header.msg_id;
    if (channel === "iopub") return this.onIopub(message);
    if (channel === "stdin") return this.stdinSubject.next(message);
    if (parentId === undefined || this.startup?.takeReply(parentId, message)) return;
    if (message.header.msg_type === "execute_reply") {
      const execute = this.executes.get(parentId);
      if (execute) execute.replied = true;
    }
    this.pending.settle(parentId, message);
  }

  private onIopub(message: JupyterMessage): void {
    if (this.startup?.isOwnIopub(message)) return;
    const msgType = message.header.msg_type;
    const parentId = message.parent_header.msg_id;
    const state = message.content.execution_state;
    if (!this.ownLifecycle) {
      // The server's own status after its restarter found the process gone: our kernel is dead.
      if (msgType === "status" && parentId === undefined && (state === "restarting" || state === "dead")) {
        const how = state === "restarting" ? "; the server started a fresh one in its place, which runtimed shuts down" : "";
        return this.die(`Kernel ${this.spec.name} died on the gateway at ${this.http.config.url}${how}`, state === "restarting");
      }
      if (msgType === "shutdown_reply") {
        const restarted = message.content.restart === true;
        const what = restarted ? "was restarted on the gateway by another client" : "was shut down by the gateway";
        return this.die(`Kernel ${this.spec.name} ${what} at ${this.http.config.url}`, restarted);
      }
    }
    if (msgType === "status" && state === "idle" && parentId !== undefined) {
      this.unanswered.idle(parentId);
      this.executes.delete(parentId);
      this.idleWaiters.get(parentId)?.();
    }
    this.iopubSubject.next(message);
  }

  // -- death -----------------------------------------------------------------------------------

  private die(message: string, deleteOnGateway: boolean, reason: KernelExit["reason"] = "remote"): void {
    if (this.dead) return;
    this.dead = true;
    this.unanswered.stop();
    this.connection.close();
    this.executes.clear();
    this.startup?.fail(new RuntimedError("KERNEL_FAILED", message));
    this.pending.rejectAll(new RuntimedError("KERNEL_DIED", message));
    if (reason === "remote") this.options.log?.warn("gateway kernel died", { kernel_id: this.id, reason: message });
    if (deleteOnGateway) {
      this.http.shutdownKernel(this.id).then(
        () => this.options.log?.info("kernel deleted on the gateway", { kernel_id: this.id }),
        (error: unknown) => this.options.log?.warn("could not delete the kernel on the gateway", { kernel_id: this.id, error: String(error) }),
      );
    }
    this.exitSubject.next({ code: null, signal: null, reason, message });
    this.exitSubject.complete();
    this.iopubSubject.complete();
    this.stdinSubject.complete();
  }

  private diedError(what: string): RuntimedError {
    return new RuntimedError("KERNEL_DIED", `Kernel ${this.spec.name} (${this.id}) on the gateway at ${this.http.config.url} ${what}`);
  }

  /** A start or restart failure as KERNEL_FAILED (or TIMEOUT) naming the gateway, keeping a RuntimedError's own words. */
  private failure(error: unknown, what: string): RuntimedError {
    const base = `Kernel ${this.spec.name} ${what} the gateway at ${this.http.config.url}`;
    if (error instanceof RuntimedError) {
      return new RuntimedError(error.code === "TIMEOUT" ? "TIMEOUT" : "KERNEL_FAILED", error.message.includes(this.http.config.url) ? error.message : `${base}: ${error.message}`);
    }
    if (error instanceof ChannelsOpenError && (error.httpStatus === 401 || error.httpStatus === 403)) {
      return new RuntimedError("KERNEL_FAILED", `${base}: the gateway refused the token for the channels WebSocket (HTTP ${error.httpStatus})`);
    }
    return toRuntimedError(new Error(`${base}: ${error instanceof Error ? error.message : String(error)}`), "KERNEL_FAILED");
  }
}
