import { filter, map, type OperatorFunction } from "rxjs";
import type { ExecutionError, ExecutionEvent, ExecutionResult, ResultEvent } from "../types";

/**
 * Emits the error of an execution that failed (the exception the kernel reported), and nothing
 * for one that succeeded.
 *
 * ```ts
 * session.execute(id).pipe(errors()).subscribe(({ ename, evalue }) => log.warn(`${ename}: ${evalue}`));
 * ```
 */
export function errors(): OperatorFunction<ExecutionEvent, ExecutionError> {
  return (events$) =>
    events$.pipe(
      filter((event): event is ResultEvent => event.type === "result" && !event.result.success),
      map((event) => event.result),
      filter((result): result is ExecutionResult & { error: ExecutionError } => result.error !== null),
      map((result) => result.error),
    );
}
