import { Observable, asyncScheduler, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from "rxjs";
import type { JupyterMessage } from "../kernel/wire";

function isIdle(message: JupyterMessage): boolean {
  return message.header.msg_type === "status" && message.content.execution_state === "idle";
}

/**
 * Holds back each `status: idle` until its request's messages have been quiet for `quietMs`,
 * so that outputs a kernel publishes after its idle (Deno's kernel sends `stream` and
 * `execute_result` from other tasks, a few ms late) still arrive before it. A message of
 * another request releases a held idle at once, keeping requests in order.
 *
 * ```ts
 * const iopub$ = kernel.iopub$.pipe(settleIdle(50));
 * ```
 */
export function settleIdle(quietMs: number, scheduler: SchedulerLike = asyncScheduler): MonoTypeOperatorFunction<JupyterMessage> {
  return (source$) =>
    new Observable<JupyterMessage>((subscriber) => {
      let held: { idle: JupyterMessage; timer: Subscription } | undefined;
      const release = () => {
        if (!held) return;
        const { idle, timer } = held;
        held = undefined;
        timer.unsubscribe();
        subscriber.next(idle);
      };
      const hold = (idle: JupyterMessage) => {
        held = { idle, timer: scheduler.schedule(release, quietMs) };
      };
      const subscription = source$.subscribe({
        next(message) {
          const parentId = message.parent_header.msg_id;
          if (held && held.idle.parent_header.msg_id === parentId) {
            // A late message of the held request: deliver it, and wait again for quiet.
            const { idle } = held;
            held.timer.unsubscribe();
            held = undefined;
            if (!isIdle(message)) subscriber.next(message);
            hold(idle);
            return;
          }
          release();
          if (isIdle(message)) hold(message);
          else subscriber.next(message);
        },
        error(error: unknown) {
          release();
          subscriber.error(error);
        },
        complete() {
          release();
          subscriber.complete();
        },
      });
      return () => {
        held?.timer.unsubscribe();
        held = undefined;
        subscription.unsubscribe();
      };
    });
}
