import { RuntimedError, type RuntimedErrorCode } from "../protocol/errors";
import type { Broadcast, ExecutionStatus, QueueState } from "../protocol/messages";
import type { Execution } from "./execution";

/** What the queue needs from its room. */
export interface ExecutionQueueHost {
  broadcast(message: Broadcast): void;
  /** Starts `execution` (a kernel, the cell's source from the document); throws when it cannot. */
  start(execution: Execution): Promise<void>;
  /** Interrupts the kernel running `execution`; false when no kernel runs. */
  interrupt(): Promise<boolean>;
  /** An execution is over: its kernel is free for the next one. */
  finished(execution: Execution, failure: RuntimedError | undefined): void;
}

/**
 * An interrupt that has not ended the running execution after this long is sent again, twice at
 * most, like a person pressing Ctrl-C again: CPython runs its SIGINT handler in the main thread
 * only when that thread wakes, so a signal the kernel delivers to another thread can leave a
 * long `time.sleep()` running.
 */
const REINTERRUPT_AFTER_MS = 3000;
const REINTERRUPTS = 2;

/** How many finished executions the queue remembers for `execution_status`. */
const RECENTLY_DONE_KEPT = 1000;
/** How many cancels of executions not queued yet the queue remembers. */
const EARLY_CANCELS_KEPT = 1000;

/**
 * A room's executions, one at a time in arrival order: the one running, those waiting, and how
 * the last thousand ended (for a client that was disconnected when one did).
 */
export class ExecutionQueue {
  private waiting: Execution[] = [];
  private current: Execution | undefined;
  private readonly recentlyDone = new Map<string, ExecutionStatus>();
  /**
   * Executions cancelled before they were queued: a client that cancels at once sends the cancel
   * right behind its request, and the cancel may be served while the request still waits for
   * the client's document heads. Such an execution ends cancelled when it arrives.
   */
  private readonly earlyCancels = new Set<string>();
  private pumping = false;
  /** Repeats an interrupt while the execution it was for still runs. */
  private reinterruptTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private stateScheduled = false;

  constructor(private readonly host: ExecutionQueueHost) {}

  /** The execution the kernel is running (or being started for). */
  get running(): Execution | undefined {
    return this.current;
  }

  /** Nothing running and nothing waiting. */
  get isEmpty(): boolean {
    return !this.current && this.waiting.length === 0;
  }

  has(executionId: string): boolean {
    return this.current?.executionId === executionId || this.waiting.some((e) => e.executionId === executionId);
  }

  /** How many executions run before this one (0: running or already done); undefined when unknown. */
  position(executionId: string): number | undefined {
    if (this.current?.executionId === executionId || this.recentlyDone.has(executionId)) return 0;
    const index = this.waiting.findIndex((e) => e.executionId === executionId);
    return index < 0 ? undefined : index + (this.current ? 1 : 0);
  }

  /** Queues `execution` and returns how many run before it (0 for one cancelled before it came). */
  add(execution: Execution): number {
    if (this.earlyCancels.delete(execution.executionId)) {
      execution.fail("CANCELLED", "Cancelled before it ran");
      return 0;
    }
    this.waiting.push(execution);
    const position = this.waiting.length - (this.current ? 0 : 1);
    this.host.broadcast({ event: "execution_queued", execution_id: execution.executionId, cell_id: execution.cellId });
    this.broadcastState();
    queueMicrotask(() => this.pump());
    return position;
  }

  /** Removes a waiting execution, interrupts a running one. */
  async cancel(executionId: string): Promise<"queued" | "running" | "none"> {
    const index = this.waiting.findIndex((e) => e.executionId === executionId);
    if (index >= 0) {
      const [execution] = this.waiting.splice(index, 1);
      execution!.fail("CANCELLED", "Cancelled before it ran");
      this.broadcastState();
      return "queued";
    }
    const current = this.current;
    if (current?.executionId !== executionId) {
      if (!this.recentlyDone.has(executionId)) this.rememberEarlyCancel(executionId);
      return "none";
    }
    // Still waiting for its kernel (or environment) to start: it must never run.
    if (current.cancelBeforeStart()) return "queued";
    return (await this.interruptRunning()) ? "running" : "none";
  }

  /** Interrupts the running execution, and again if it goes on; false when no kernel runs. */
  async interruptRunning(): Promise<boolean> {
    const execution = this.current;
    if (!(await this.host.interrupt())) return false;
    if (execution && this.current === execution && !this.reinterruptTimer) {
      let left = REINTERRUPTS;
      this.reinterruptTimer = setInterval(() => {
        if (this.current !== execution || left-- <= 0) return this.stopReinterrupting();
        void this.host.interrupt().catch(() => undefined);
      }, REINTERRUPT_AFTER_MS);
    }
    return true;
  }

  private rememberEarlyCancel(executionId: string): void {
    this.earlyCancels.add(executionId);
    if (this.earlyCancels.size > EARLY_CANCELS_KEPT) this.earlyCancels.delete(this.earlyCancels.values().next().value!);
  }

  private stopReinterrupting(): void {
    clearInterval(this.reinterruptTimer);
    this.reinterruptTimer = undefined;
  }

  /** Ends the running execution and every waiting one with `code` (the kernel is gone). */
  abandon(code: Extract<RuntimedErrorCode, "KERNEL_DIED" | "CLOSED">, message: string): void {
    const waiting = this.waiting;
    this.waiting = [];
    this.current?.fail(code, message);
    for (const execution of waiting) execution.fail(code, `Not run: ${message}`);
    if (waiting.length > 0) this.broadcastState();
  }

  /** Abandons everything and runs nothing more. */
  close(message: string): void {
    this.closed = true;
    this.stopReinterrupting();
    this.abandon("CLOSED", message);
  }

  /** Runs what waits (after a restart, say). */
  resume(): void {
    this.pump();
  }

  /** Notes how an execution ended; the room calls this for every `execution_done`. */
  remember(done: Extract<Broadcast, { event: "execution_done" }>): void {
    this.recentlyDone.set(done.execution_id, { state: "done", success: done.success, execution_count: done.execution_count, error: done.error });
    if (this.recentlyDone.size > RECENTLY_DONE_KEPT) this.recentlyDone.delete(this.recentlyDone.keys().next().value!);
  }

  status(executionId: string): ExecutionStatus {
    if (this.current?.executionId === executionId) return { state: "running" };
    if (this.waiting.some((execution) => execution.executionId === executionId)) return { state: "queued" };
    return this.recentlyDone.get(executionId) ?? { state: "unknown" };
  }

  state(): QueueState {
    return {
      executing: this.current ? { execution_id: this.current.executionId, cell_id: this.current.cellId } : null,
      queued: this.waiting.map((e) => ({ execution_id: e.executionId, cell_id: e.cellId })),
    };
  }

  /**
   * Tells clients what runs and waits, once per turn of the event loop however many times it
   * changed in it (queued then taken, done then the next taken): one frame instead of three.
   */
  private broadcastState(): void {
    if (this.stateScheduled) return;
    this.stateScheduled = true;
    setImmediate(() => {
      this.stateScheduled = false;
      this.host.broadcast({ event: "queue_changed", ...this.state() });
    });
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    void this.drain().finally(() => {
      this.pumping = false;
    });
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.waiting.length > 0) {
      const execution = this.waiting.shift()!;
      this.current = execution;
      this.broadcastState();
      let failure: RuntimedError | undefined;
      try {
        await this.host.start(execution);
      } catch (error) {
        failure = error instanceof RuntimedError ? error : new RuntimedError("KERNEL_FAILED", String(error));
        execution.fail(failure.code, failure.message);
      }
      await execution.done;
      this.stopReinterrupting();
      this.current = undefined;
      this.host.finished(execution, failure);
      this.broadcastState();
    }
  }
}
