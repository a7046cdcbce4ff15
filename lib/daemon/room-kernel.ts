import type { Subscription } from "rxjs";
import type { KernelHandle } from "../kernel/kernel-handle";
import type { JupyterMessage } from "../kernel/wire";
import { RuntimedError } from "../protocol/errors";
import type { KernelStatus } from "../protocol/messages";
import type { KernelLaunchRequest, KernelProvider, LaunchedKernel } from "./kernel-provider";
import type { Logger } from "./logger";

/** What a room's kernel reports back to its room. */
export interface RoomKernelHost {
  statusChanged(status: KernelStatus, kernelType: string | null, envSource: string | null): void;
  iopub(message: JupyterMessage): void;
  stdin(message: JupyterMessage): void;
  /** The kernel process died or stopped answering while it was supposed to run. */
  died(message: string): void;
}

/**
 * At most one kernel per room: start (idempotent), interrupt, restart (in the same environment,
 * or the same gateway kernel), shutdown, death. Where the kernel runs is the provider's business.
 */
export class RoomKernel {
  private launched: LaunchedKernel | undefined;
  private starting: Promise<KernelHandle> | undefined;
  private subscriptions: Subscription[] = [];
  private status: KernelStatus = "not_started";
  kernelType: string | null = null;
  envSource: string | null = null;
  private lastRequest: KernelLaunchRequest | undefined;

  constructor(
    private readonly provider: KernelProvider,
    private readonly host: RoomKernelHost,
    private readonly logger: Logger,
  ) {}

  get kernel(): KernelHandle | undefined {
    return this.launched?.kernel;
  }

  get kernelStatus(): KernelStatus {
    return this.status;
  }

  /** The running kernel, starting one when there is none. */
  async ensure(request: KernelLaunchRequest): Promise<{ kernel: KernelHandle; alreadyRunning: boolean }> {
    if (this.launched) return { kernel: this.launched.kernel, alreadyRunning: true };
    if (this.starting) return { kernel: await this.starting, alreadyRunning: true };
    this.lastRequest = request;
    this.setStatus("starting");
    const kernel = this.begin(this.provider.launch(request));
    return { kernel: await kernel, alreadyRunning: false };
  }

  async interrupt(): Promise<void> {
    if (!this.launched) throw new RuntimedError("KERNEL_NOT_RUNNING", "No kernel is running in this notebook");
    await this.launched.kernel.interrupt();
  }

  /**
   * A fresh kernel where the last one ran: the same interpreter and environment (a local
   * kernel), the same kernel id (a gateway kernel). Without a live kernel, starts one as
   * the last start asked (else `fallback`).
   */
  async restart(fallback: KernelLaunchRequest): Promise<KernelHandle> {
    if (this.starting) await this.starting.catch(() => undefined);
    const launched = this.launched;
    if (!launched?.kernel.alive) {
      await this.stop("restarting");
      return (await this.ensure(this.lastRequest ?? fallback)).kernel;
    }
    this.setStatus("restarting");
    this.detach();
    return this.begin(launched.restart());
  }

  /** Shuts the kernel down; resolves once its process is gone. */
  async shutdown(): Promise<boolean> {
    if (this.starting) await this.starting.catch(() => undefined);
    const wasRunning = this.launched !== undefined;
    await this.stop("shutting_down");
    this.setStatus("not_started");
    return wasRunning;
  }

  /** Attaches the kernel `launching` resolves with; `ensure` and `restart` wait on it meanwhile. */
  private begin(launching: Promise<LaunchedKernel>): Promise<KernelHandle> {
    this.starting = launching.then(
      (launched) => {
        this.starting = undefined;
        this.attach(launched);
        this.setStatus("idle");
        return launched.kernel;
      },
      (error: unknown) => {
        this.starting = undefined;
        this.setStatus("not_started");
        throw error instanceof RuntimedError ? error : new RuntimedError("KERNEL_FAILED", String(error));
      },
    );
    return this.starting;
  }

  private async stop(status: KernelStatus): Promise<void> {
    const kernel = this.launched?.kernel;
    if (!kernel) return;
    this.setStatus(status);
    this.detach();
    await kernel.shutdown();
    this.logger.info("kernel stopped", { kernel: kernel.spec.name, pid: kernel.pid });
  }

  private attach(launched: LaunchedKernel): void {
    const kernel = launched.kernel;
    this.launched = launched;
    this.kernelType = launched.kernelType;
    this.envSource = launched.envSource;
    this.subscriptions = [
      kernel.iopub$.subscribe((message) => {
        if (message.header.msg_type === "status" && this.launched === launched) {
          const state = message.content.execution_state;
          if (state === "busy" || state === "idle") this.setStatus(state);
        }
        this.host.iopub(message);
      }),
      kernel.stdin$.subscribe((message) => this.host.stdin(message)),
      kernel.exit$.subscribe((exit) => {
        if (this.launched !== launched) return;
        this.detach();
        const why =
          exit.message ??
          `The kernel ${
            exit.reason === "heartbeat"
              ? "stopped answering its heartbeat"
              : `exited (code ${exit.code ?? "none"}${exit.signal ? `, signal ${exit.signal}` : ""})`
          }`;
        this.logger.warn("kernel died", { kernel: kernel.spec.name, pid: kernel.pid, reason: why });
        kernel.kill();
        this.setStatus("dead");
        this.host.died(why);
      }),
    ];
  }

  private detach(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.launched = undefined;
  }

  private setStatus(status: KernelStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.host.statusChanged(status, this.kernelType, this.envSource);
  }
}
