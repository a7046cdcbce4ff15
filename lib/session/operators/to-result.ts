import { filter, map, type OperatorFunction } from "rxjs";
import type { ExecutionEvent, ExecutionResult, ResultEvent } from "../types";

/**
 * Keeps only the result of an execution.
 *
 * ```ts
 * const result = await lastValueFrom(session.execute(id).pipe(toResult()));
 * ```
 */
export function toResult(): OperatorFunction<ExecutionEvent, ExecutionResult> {
  return (events$) =>
    events$.pipe(
      filter((event): event is ResultEvent => event.type === "result"),
      map((event) => event.result),
    );
}
