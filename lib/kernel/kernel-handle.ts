import type { Observable } from "rxjs";
import type { KernelSpec } from "./kernelspec";
import type { JupyterMessage } from "./wire";

/**
 * How a kernel ended: its process exited, it stopped answering heartbeats (then killed), or it
 * went away on a remote server (`message` says how).
 */
export interface KernelExit {
  code: number | null;
  signal: string | null;
  reason: "exit" | "heartbeat" | "remote";
  /** What happened, in words, when the reason alone does not say (remote kernels). */
  message?: string;
}

/** Options of an execute_request, camelCased. */
export interface ExecuteOptions {
  silent?: boolean;
  storeHistory?: boolean;
  allowStdin?: boolean;
  userExpressions?: object;
  stopOnError?: boolean;
}

/** The content of an execute_request for `code`: what `options` leaves out gets Jupyter's defaults. */
export function executeRequestContent(code: string, options: ExecuteOptions = {}) {
  const silent = options.silent ?? false;
  return {
    code,
    silent,
    store_history: options.storeHistory ?? !silent,
    user_expressions: options.userExpressions ?? {},
    allow_stdin: options.allowStdin ?? false,
    stop_on_error: options.stopOnError ?? true,
  };
}

/** The channels that carry requests with replies. */
export type RequestChannel = "shell" | "control";

/**
 * A running Jupyter kernel as rooms and executions use it, wherever it runs: a local process
 * spoken to over ZeroMQ (`Kernel`), or a kernel on a Jupyter Server / Enterprise Gateway spoken
 * to over its channels WebSocket (`GatewayKernel`).
 *
 * ```ts
 * const { msgId, reply } = kernel.executeRequest("1+1");
 * kernel.iopub$.pipe(filter((m) => m.parent_header.msg_id === msgId)).subscribe(show);
 * await reply;
 * ```
 */
export interface KernelHandle {
  /** Every iopub message, as it arrives (hot; completes when the kernel is gone). */
  readonly iopub$: Observable<JupyterMessage>;
  /** input_request messages from the stdin channel; answer them with `sendInputReply`. */
  readonly stdin$: Observable<JupyterMessage>;
  /** Emits once when the kernel dies or is shut down, then completes (replayed to late subscribers). */
  readonly exit$: Observable<KernelExit>;
  /** The kernelspec it runs (name, display name, language). */
  readonly spec: Pick<KernelSpec, "name" | "displayName" | "language">;
  /** The kernel's process id on this machine; null for a kernel on another machine. */
  readonly pid: number | null;
  /** The content of the kernel_info_reply received at startup. */
  readonly kernelInfo: Record<string, unknown>;
  /** True until the kernel has died or been shut down. */
  readonly alive: boolean;

  /**
   * Sends an execute_request on shell. `msgId` is the parent id of every iopub message it
   * causes; `reply` resolves with the execute_reply (or rejects `KERNEL_DIED`).
   */
  executeRequest(code: string, options?: ExecuteOptions): { msgId: string; reply: Promise<JupyterMessage> };
  /** Sends `msgType` on `channel` and resolves with its reply (rejects `KERNEL_DIED`, or `TIMEOUT` after `timeoutMs`). */
  request(channel: RequestChannel, msgType: string, content: object, options?: { timeoutMs?: number }): Promise<JupyterMessage>;
  /** Sends a message that has no reply (comm_msg, comm_open, ...) and returns its msg_id. */
  send(channel: RequestChannel, msgType: string, content: object): string;
  /** Answers an input_request (from `stdin$`) with `value`. */
  sendInputReply(value: string, parent: JupyterMessage): void;
  /** Interrupts the running execution. */
  interrupt(): Promise<void>;
  /** Stops the kernel and frees what it held; idempotent, never throws. */
  shutdown(options?: { graceMs?: number }): Promise<void>;
  /** Ends the kernel at once, without waiting; `exit$` follows. */
  kill(): void;
}
