import { v4 as randomUUID } from "uuid";
import { Observable } from "rxjs";
import { RuntimedError } from "../protocol/errors";
import type { RequestBody, ResponseData } from "../protocol/messages";
import { ExecutionTracker } from "./execution-tracker";
import type { ExecutionEvent, Output, RoomEvent } from "./types";

/** What an execution needs from its session. */
export interface ExecutionContext {
  events$: Observable<RoomEvent>;
  /** Emits when the connection is back after a drop: events of that gap are lost. */
  reconnected$: Observable<void>;
  /** Emits when the daemon was stopped on purpose: nothing more comes, not even a reconnect. */
  stopped$: Observable<void>;
  /** A cell's outputs as the document has them. */
  documentOutputs(cellId: string): Output[];
  heads(): string[];
  /** Sends a request (waiting for a reconnect under way); not sent once `signal` is aborted. */
  request<A extends RequestBody["action"]>(body: Extract<RequestBody, { action: A }>, signal?: AbortSignal): Promise<ResponseData[A]>;
}

export interface ExecutionObservableOptions {
  timeoutSecs?: number;
  /** False: the kernel fails `input()` at once (sent only then; the daemon's default is true). */
  allowStdin?: boolean;
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
    const tracker = new ExecutionTracker(cellId, executionId, () => context.documentOutputs(cellId));
    let finished = false;
    // Cancelling before the request went out (it may wait for a reconnect) keeps it from going
    // out at all; one already sent is cancelled on the daemon, which also takes a cancel that
    // overtakes its request there.
    const unsent = new AbortController();
    const cancel = () => {
      unsent.abort();
      void context.request({ action: "cancel_execution", execution_id: executionId }).catch(() => undefined);
    };

    const deliver = (event: RoomEvent) => {
      if (finished) return;
      for (const executionEvent of tracker.apply(event)) {
        if (executionEvent.type === "result") finished = true;
        subscriber.next(executionEvent);
        if (finished) subscriber.complete();
      }
    };
    // Listen before sending: the daemon's events for this execution may beat its response.
    const subscription = context.events$.subscribe({
      next: deliver,
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

    let accepted = false;
    const request = {
      action: "execute_cell",
      cell_id: cellId,
      execution_id: executionId,
      heads: context.heads(),
      ...(options.allowStdin === false ? { allow_stdin: false } : {}),
    } as const;
    context
      .request(request, unsent.signal)
      .then(() => (accepted = true))
      .catch((error: unknown) => {
        if (finished) return;
        finished = true;
        subscriber.error(ExecutionTracker.requestFailed(error));
      });

    // Back after a dropped connection: this execution's end may have gone by unseen, or the
    // daemon restarted and lost it (with its kernel). Ask; another drop asks again.
    const resumed = context.reconnected$.subscribe(() => {
      if (!accepted || finished) return; // not yet the daemon's: its request fails or is answered
      tracker.missedEvents();
      context
        .request({ action: "execution_status", execution_id: executionId })
        .then((status) => {
          if (status.state === "done") {
            deliver({ type: "execution_done", executionId, cellId, success: status.success, executionCount: status.execution_count, error: status.error });
          } else if (status.state === "unknown") {
            const error = { code: "KERNEL_DIED" as const, message: "The daemon restarted while this cell ran; its kernel and the execution were lost" };
            deliver({ type: "execution_done", executionId, cellId, success: false, executionCount: null, error });
          }
        })
        .catch(() => undefined);
    });

    // The daemon ended this execution as it stopped, but a client that read slowly may not have
    // got that far before the connection closed: it ends here, not at its timeout (or never).
    const stopped = context.stopped$.subscribe(() => {
      if (!accepted || finished) return;
      const error = { code: "CLOSED" as const, message: "The runtimed daemon was stopped on purpose before this cell finished" };
      deliver({ type: "execution_done", executionId, cellId, success: false, executionCount: null, error });
    });

    return () => {
      clearTimeout(timer);
      subscription.unsubscribe();
      resumed.unsubscribe();
      stopped.unsubscribe();
      if (!finished && options.cancelOnUnsubscribe) {
        finished = true;
        cancel();
      }
    };
  });
}
