import type { Subscription } from "rxjs";
import type { Kernel } from "../kernel/kernel";
import type { JupyterMessage } from "../kernel/wire";
import { RuntimedError } from "../protocol/errors";
import type { KernelStatus } from "../protocol/messages";
import type { KernelLaunchRequest, KernelProvider } from "./kernel-provider";
import type { Logger } from "./logger";

/** What a room's kernel reports back to its room. */
export interface RoomKernelHost {
  statusChanged(status: KernelStatus, kernelType: string | null, envSource: string | null): void;
  iopub(message: JupyterMessage): void;
  stdin(message: JupyterMessage): void;
  /** The kernel process died or stopped answering while it was supposed to run. */
  died(message: string): void;
}

/** At most one kernel per room: start (idempotent), interrupt, restart, shutdown, death. */
export class RoomKernel {
  private current: Kernel | undefined;
  private starting: Promise<Kernel> | undefined;
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

  get kernel(): Kernel | undefined {
    return this.current;
  }

  get kernelStatus(): KernelStatus {
    return this.status;
  }

  /** The running kernel, starting one when there is none. */
  async ensure(request: KernelLaunchRequest): Promise<{ kernel: Kernel; alreadyRunning: boolean }> {
    if (this.current) return { kernel: this.current, alreadyRunning: true };
    if (this.starting) return { kernel: await this.starting, alreadyRunning: true };
    this.lastRequest = request;
    this.setStatus("starting");
    this.starting = this.provider.launch(request).then(
      (launched) => {
        this.starting = undefined;
        this.attach(launched.kernel);
        this.kernelType = launched.kernelType;
        this.envSource = launched.envSource;
        this.setStatus("idle");
        return launched.kernel;
      },
      (error: unknown) => {
        this.starting = undefined;
        this.setStatus("not_started");
        throw error instanceof RuntimedError ? error : new RuntimedError("KERNEL_FAILED", String(error));
      },
    );
    return { kernel: await this.starting, alreadyRunning: false };
  }

  async interrupt(): Promise<void> {
    if (!this.current) throw new RuntimedError("KERNEL_NOT_RUNNING", "No kernel is running in this notebook");
    await this.current.interrupt();
  }

  async restart(fallback: KernelLaunchRequest): Promise<Kernel> {
    const request = this.lastRequest ?? fallback;
    await this.stop("restarting");
    return (await this.ensure(request)).kernel;
  }

  /** Shuts the kernel down; resolves once its process is gone. */
  async shutdown(): Promise<boolean> {
    if (this.starting) await this.starting.catch(() => undefined);
    const wasRunning = this.current !== undefined;
    await this.stop("shutting_down");
    this.setStatus("not_started");
    return wasRunning;
  }

  private async stop(status: KernelStatus): Promise<void> {
    const kernel = this.current;
    if (!kernel) return;
    this.setStatus(status);
    this.detach();
    await kernel.shutdown();
    this.logger.info("kernel stopped", { pid: kernel.pid });
  }

  private attach(kernel: Kernel): void {
    this.current = kernel;
    this.subscriptions = [
      kernel.iopub$.subscribe((message) => {
        if (message.header.msg_type === "status" && this.current === kernel) {
          const state = message.content.execution_state;
          if (state === "busy" || state === "idle") this.setStatus(state);
        }
        this.host.iopub(message);
      }),
      kernel.stdin$.subscribe((message) => this.host.stdin(message)),
      kernel.exit$.subscribe((exit) => {
        if (this.current !== kernel) return;
        this.detach();
        const why =
          exit.reason === "heartbeat"
            ? "stopped answering its heartbeat"
            : `exited (code ${exit.code ?? "none"}${exit.signal ? `, signal ${exit.signal}` : ""})`;
        this.logger.warn("kernel died", { pid: kernel.pid, reason: why });
        kernel.kill();
        this.setStatus("dead");
        this.host.died(`The kernel ${why}`);
      }),
    ];
  }

  private detach(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.current = undefined;
  }

  private setStatus(status: KernelStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.host.statusChanged(status, this.kernelType, this.envSource);
  }
}
