import { RuntimedError } from "../protocol/errors";
import { createMessage, type JupyterMessage } from "./wire";

/** Retry interval while waiting for iopub once shell has answered. */
const RETRY_MS = 200;
/** Requests queue in ZeroMQ until the kernel binds, so before any reply resend only this often. */
const RESEND_BEFORE_REPLY_MS = 1000;

/**
 * The startup handshake of a kernel: send kernel_info_request until a reply arrives on shell
 * AND an iopub message has been seen (a SUB socket misses whatever is published before its
 * subscription lands, so without this the first outputs of the first cell could be lost).
 */
export class KernelStartup {
  /** The content of the first kernel_info_reply. */
  kernelInfo: Record<string, unknown> | undefined;
  private readonly requestIds = new Set<string>();
  private iopubSeen = false;
  private settled = false;
  private lastSentAt = 0;
  private resolve: (() => void) | undefined;
  private reject: ((error: RuntimedError) => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sendRequest: (message: JupyterMessage) => void,
    private readonly session: string,
    /**
     * Count only iopub messages caused by the startup's own requests: after a restart, late
     * messages of the old process must not pass for the new one's stream being connected.
     */
    private readonly ownIopubOnly = false,
  ) {}

  /** Resolves when the kernel is ready; rejects `TIMEOUT` after `timeoutMs`, or as `fail` says. */
  run(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.settled) {
        reject(new RuntimedError("KERNEL_FAILED", "Kernel startup was already over"));
        return;
      }
      this.resolve = resolve;
      this.reject = reject;
      this.timeoutTimer = setTimeout(
        () => this.fail(new RuntimedError("TIMEOUT", `Kernel did not become ready within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.retryTimer = setInterval(() => this.tick(), RETRY_MS);
      this.sendKernelInfo();
    });
  }

  /** Takes a shell reply if it answers a startup request; true when it did. */
  takeReply(parentId: string, message: JupyterMessage): boolean {
    if (!this.requestIds.has(parentId)) return false;
    if (this.kernelInfo === undefined && message.header.msg_type === "kernel_info_reply") {
      this.kernelInfo = message.content;
      if (!this.iopubSeen) this.sendKernelInfo();
      this.check();
    }
    return true;
  }

  /** Notes an iopub message; true when it was caused by a startup request (hide it). */
  isOwnIopub(message: JupyterMessage): boolean {
    const parentId = message.parent_header.msg_id;
    const own = parentId !== undefined && this.requestIds.has(parentId);
    if (!this.iopubSeen && (own || !this.ownIopubOnly)) {
      this.iopubSeen = true;
      this.check();
    }
    return own;
  }

  /** Ends startup with `error` if it is still running. */
  fail(error: RuntimedError): void {
    if (this.settled) return;
    this.finish();
    this.reject?.(error);
  }

  private tick(): void {
    if (this.kernelInfo === undefined) {
      if (Date.now() - this.lastSentAt >= RESEND_BEFORE_REPLY_MS) this.sendKernelInfo();
    } else if (!this.iopubSeen) {
      this.sendKernelInfo();
    }
  }

  private sendKernelInfo(): void {
    const message = createMessage("kernel_info_request", {}, this.session);
    this.requestIds.add(message.header.msg_id);
    this.lastSentAt = Date.now();
    this.sendRequest(message);
  }

  private check(): void {
    if (this.settled || this.kernelInfo === undefined || !this.iopubSeen || this.resolve === undefined) return;
    this.finish();
    this.resolve();
  }

  private finish(): void {
    this.settled = true;
    clearInterval(this.retryTimer);
    clearTimeout(this.timeoutTimer);
  }
}
