import { filter, map, type OperatorFunction } from "rxjs";
import type { ExecutionEvent, Output, OutputEvent } from "../types";

/**
 * Emits each output of an execution as it arrives or changes (a growing stream output is
 * emitted again with its new text).
 *
 * ```ts
 * session.execute(id).pipe(outputs()).subscribe(render);
 * ```
 */
export function outputs(): OperatorFunction<ExecutionEvent, Output> {
  return (events$) =>
    events$.pipe(
      filter((event): event is OutputEvent => event.type === "output"),
      map((event) => event.output),
    );
}
