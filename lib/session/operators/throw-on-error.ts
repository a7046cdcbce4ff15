import { map, type MonoTypeOperatorFunction } from "rxjs";
import type { ExecutionEvent, ExecutionResult } from "../types";

/** An execution finished without success; `result` is what it produced, error included. */
export class ExecutionFailedError extends Error {
  override readonly name = "ExecutionFailedError";

  constructor(readonly result: ExecutionResult) {
    super(
      result.error
        ? `Cell ${result.cellId} raised ${result.error.ename}: ${result.error.evalue}`
        : `Cell ${result.cellId} did not finish successfully (execution ${result.executionId}); see the kernel status and the daemon log`,
    );
  }
}

/**
 * Passes an execution's events through, but turns an unsuccessful result into an observable
 * error (an `ExecutionFailedError` carrying the result), for code that treats a raised
 * exception as a failure: `await`, `catchError`, `retry`.
 *
 * ```ts
 * const result = await lastValueFrom(session.execute(id).pipe(throwOnError(), toResult()));
 * ```
 */
export function throwOnError(): MonoTypeOperatorFunction<ExecutionEvent> {
  return map((event) => {
    if (event.type === "result" && !event.result.success) throw new ExecutionFailedError(event.result);
    return event;
  });
}
