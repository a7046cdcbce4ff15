import { randomUUID } from "node:crypto";
import { Observable } from "rxjs";
import { RuntimedError } from "../protocol/errors";
import type { RequestBody, ResponseData } from "../protocol/messages";
import { ExecutionTracker } from "./execution-tracker";
import type { ExecutionEvent, RoomEvent } from "./types";

/** What an execution needs from its session. */
export interface ExecutionContext {
  events$: Observable<RoomEvent>;
  heads(): string[];
  request<A extends RequestBody["action"]>(body: Extract<RequestBody, { action: A }>): Promise<ResponseData[A]>;
}

export interface ExecutionObservableOptions {
  timeoutSecs?: number;
  /** Unsubscribing before the result cancels the execution (`execute`) or only stops watching (`queue`). */
  cancelOnUnsubscribe: boolean;
}

const DEFAULT_TIMEOUT_SECS = 60;

/**
 * One execution as a cold observable: on subscribe it asks the daemon to run the cell (as the
 * document stands at this client's heads) and emits its events until the result.
 */
export function executionObservable(context: ExecutionContext, cellId: string, options: ExecutionObservableOptions): Observable<ExecutionEvent> {
  return new Observable<ExecutionEvent>((subscriber) => {
    const executionId = randomUUID();
    const tracker = new ExecutionTracker(cellId, executionId);
    let finished = false;
    const cancel = () => void context.request({ action: "cancel_execution", execution_id: executionId }).catch(() => undefined);

    // Listen before sending: the daemon's events for this execution may beat its response.
    const subscription = context.events$.subscribe({
      next: (event) => {
        for (const executionEvent of tracker.apply(event)) {
          if (executionEvent.type === "result") finished = true;
          subscriber.next(executionEvent);
          if (finished) subscriber.complete();
        }
      },
      complete: () => {
        if (!finished) subscriber.error(new RuntimedError("CLOSED", `The session closed before execution ${executionId} of ${cellId} finished`));
      },
    });

    // timeoutSecs: Infinity (or 0) means no limit.
    const timeoutSecs = options.timeoutSecs ?? DEFAULT_TIMEOUT_SECS;
    const limited = Number.isFinite(timeoutSecs) && timeoutSecs > 0;
    const timer = limited
      ? setTimeout(() => {
          if (finished) return;
          finished = true;
          cancel();
          subscriber.error(new RuntimedError("TIMEOUT", `Cell ${cellId} did not finish within ${timeoutSecs} s; it was interrupted`));
        }, Math.min(timeoutSecs * 1000, 2_147_483_647))
      : undefined;

    context
      .request({ action: "execute_cell", cell_id: cellId, execution_id: executionId, heads: context.heads() })
      .catch((error: unknown) => {
        if (finished) return;
        finished = true;
        subscriber.error(ExecutionTracker.requestFailed(error));
      });

    return () => {
      clearTimeout(timer);
      subscription.unsubscribe();
      if (!finished && options.cancelOnUnsubscribe) {
        finished = true;
        cancel();
      }
    };
  });
}
