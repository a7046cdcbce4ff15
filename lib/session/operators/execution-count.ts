import { distinctUntilChanged, filter, map, type OperatorFunction } from "rxjs";
import type { ExecutionEvent, ResultEvent, StartedEvent } from "../types";

/**
 * Emits the execution count the kernel gave this execution, once it is known (when the cell
 * starts, or at the result if the start did not carry it).
 *
 * ```ts
 * session.execute(id).pipe(executionCount()).subscribe((count) => prompt.set(`In [${count}]:`));
 * ```
 */
export function executionCount(): OperatorFunction<ExecutionEvent, number> {
  return (events$) =>
    events$.pipe(
      filter((event): event is StartedEvent | ResultEvent => event.type === "started" || event.type === "result"),
      map((event) => (event.type === "started" ? event.executionCount : event.result.executionCount)),
      filter((count): count is number => count !== null),
      distinctUntilChanged(),
    );
}
