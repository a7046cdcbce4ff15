import type { PendingReplies } from "./pending-replies";
import { createMessage } from "./wire";

/**
 * How long an execute_request may stay unanswered once the kernel said it is idle again.
 * ipykernel replies before it publishes that idle status, but a SIGINT landing between
 * `execute_input` and the start of the user's code escapes the request handler: ipykernel's
 * dispatcher logs "KeyboardInterrupt caught in kernel", goes idle and never replies.
 */
const UNANSWERED_AFTER_IDLE_MS = 2000;

/**
 * Answers an execute_request that the kernel went idle on without replying (see
 * UNANSWERED_AFTER_IDLE_MS) with a synthesized error reply, so that no execution waits forever.
 * Shared by every kernel transport: the race is ipykernel's, not the wire's.
 */
export class IdleWithoutReply {
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastInterruptAt = -Infinity;

  constructor(
    private readonly pending: PendingReplies,
    private readonly session: string,
  ) {}

  /** Notes that an interrupt was just sent: a missing reply then reads as an interrupted start. */
  interrupted(): void {
    this.lastInterruptAt = Date.now();
  }

  /** Call on every `status: idle` from iopub, with its parent's msg_id. */
  idle(parentId: string | undefined): void {
    if (parentId === undefined || this.pending.waiting(parentId)?.msgType !== "execute_request") return;
    // After the timer, one more turn of the event loop: its poll phase reads a reply that
    // arrived while the loop was blocked, before this check runs.
    const timer = setTimeout(() => setImmediate(() => {
      this.timers.delete(timer);
      const request = this.pending.waiting(parentId);
      if (request === undefined) return;
      const interrupted = this.lastInterruptAt >= request.sentAt;
      const reply = createMessage(
        "execute_reply",
        {
          status: "error",
          execution_count: null,
          ename: interrupted ? "KeyboardInterrupt" : "NoReply",
          evalue: interrupted ? "Interrupted before the code started" : "The kernel finished this request without replying to it",
          traceback: [],
        },
        this.session,
      );
      reply.parent_header = { msg_id: parentId, msg_type: "execute_request" };
      reply.metadata = { runtimed_synthesized: true };
      this.pending.settle(parentId, reply);
    }), UNANSWERED_AFTER_IDLE_MS);
    this.timers.add(timer);
  }

  /** Cancels every timer (the kernel is gone). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
