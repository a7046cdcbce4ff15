import type { Subscription } from "rxjs";
import type { Kernel } from "../kernel/kernel";
import type { PythonEnv } from "../env/backend";
import type { Logger } from "./logger";

/** A kernel started ahead of need, with the environment it runs in and that env's label. */
export interface WarmKernel {
  kernel: Kernel;
  env: PythonEnv;
  /** The truthful label of `env`, e.g. `"venv:prewarmed"`. */
  envSource: string;
}

/** How a `KernelPool` starts kernels and gives their environments back. */
export interface KernelPoolOptions {
  /** Starts one kernel of the default environment, with no notebook-specific cwd. */
  launch(): Promise<WarmKernel>;
  /** Frees what a pooled kernel held once it is gone without being taken (died, flushed, closed). */
  release(warm: WarmKernel): Promise<void>;
  logger: Logger;
}

/** Launch failures in a row after which the pool waits for the next `take()` or `flush()`. */
const MAX_FAILURES_IN_A_ROW = 2;

/**
 * Keeps one *running* kernel of the default environment ready, so that a new notebook's first
 * execution does not wait 1-2 s for ipykernel to start. A taken kernel is replaced in the
 * background; a pooled kernel that dies is replaced too (twice in a row at most, then the
 * next `take` tries again), so a broken interpreter cannot make the pool spin.
 *
 * ```ts
 * const pool = new KernelPool({ launch, release, logger });
 * pool.start();
 * const warm = await pool.take();  // undefined when none could be had
 * await pool.close();              // shuts the pooled kernel down
 * ```
 */
export class KernelPool {
  private warm: WarmKernel | undefined;
  private warmExit: Subscription | undefined;
  private filling: Promise<void> | undefined;
  private failuresInARow = 0;
  /** Bumped by flush/close: a launch that finishes in an older generation is shut down. */
  private generation = 0;
  private closed = false;

  constructor(private readonly options: KernelPoolOptions) {}

  /** Begins filling the pool in the background. Idempotent. */
  start(): void {
    this.fill();
  }

  /**
   * Takes the pooled kernel for the caller to own: the ready one at once, else the one being
   * started (waiting for it beats starting another), else `undefined`. Always refills.
   */
  async take(): Promise<WarmKernel | undefined> {
    if (this.closed) return undefined;
    // Someone wants kernels again: give a pool that had given up another chance.
    this.failuresInARow = 0;
    if (!this.warm) {
      this.fill();
      await this.filling;
    }
    const warm = this.warm;
    if (warm) {
      this.warm = undefined;
      this.warmExit?.unsubscribe();
      this.warmExit = undefined;
    }
    this.fill();
    return warm;
  }

  /** One row for `poolContents()`: a kernel ready, and one being started. */
  contents(): { backend: "kernel"; ready: number; building: number } {
    return { backend: "kernel", ready: this.warm ? 1 : 0, building: this.filling ? 1 : 0 };
  }

  /**
   * Shuts the pooled kernel down (waiting for one being started), runs `beforeRefill` (e.g.
   * renewing the environments it would start in), then starts a fresh one.
   */
  async flush(beforeRefill: () => Promise<void> = async () => {}): Promise<void> {
    await this.drain();
    await beforeRefill();
    this.failuresInARow = 0;
    this.fill();
  }

  /** Shuts the pooled kernel down and stops replenishing; resolves once its process is gone. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private async drain(): Promise<void> {
    this.generation += 1;
    await this.filling;
    const warm = this.warm;
    this.warm = undefined;
    this.warmExit?.unsubscribe();
    this.warmExit = undefined;
    if (warm) await this.discard(warm);
  }

  private fill(): void {
    if (this.closed || this.warm || this.filling || this.failuresInARow >= MAX_FAILURES_IN_A_ROW) return;
    const generation = this.generation;
    this.filling = this.launchOne(generation).finally(() => {
      this.filling = undefined;
      // After a failed launch, try again (failuresInARow bounds it); flush and close refill themselves.
      if (generation === this.generation) this.fill();
    });
  }

  private async launchOne(generation: number): Promise<void> {
    let warm: WarmKernel;
    try {
      warm = await this.options.launch();
    } catch (error) {
      this.failuresInARow += 1;
      this.options.logger.warn("could not prewarm a kernel", { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (generation !== this.generation || this.closed || !warm.kernel.alive) {
      await this.discard(warm);
      return;
    }
    this.warm = warm;
    this.options.logger.info("kernel prewarmed", { pid: warm.kernel.pid, env_source: warm.envSource });
    this.warmExit = warm.kernel.exit$.subscribe((exit) => {
      if (this.warm !== warm) return;
      this.warm = undefined;
      this.warmExit = undefined;
      this.failuresInARow += 1;
      this.options.logger.warn("prewarmed kernel died", { pid: warm.kernel.pid, code: exit.code, signal: exit.signal, reason: exit.reason });
      void this.discard(warm).then(() => queueMicrotask(() => this.fill()));
    });
  }

  private async discard(warm: WarmKernel): Promise<void> {
    await warm.kernel.shutdown();
    await this.options.release(warm).catch((error: unknown) => {
      this.options.logger.warn("could not remove a prewarmed environment", { dir: warm.env.dir, error: String(error) });
    });
  }
}
