import type * as nbformat from "@jupyterlab/nbformat";
import { filter, map, type OperatorFunction } from "rxjs";
import type { ExecutionEvent, OutputEvent } from "../types";

/**
 * Emits the rich outputs (display_data and execute_result) of an execution as they arrive or
 * are updated.
 *
 * ```ts
 * session.execute(id).pipe(displayData()).subscribe((d) => show(d.data["image/png"]));
 * ```
 */
export function displayData(): OperatorFunction<ExecutionEvent, nbformat.IDisplayData | nbformat.IExecuteResult> {
  return (events$) =>
    events$.pipe(
      filter((event): event is OutputEvent => event.type === "output"),
      map((event) => event.output),
      filter(
        (output): output is nbformat.IDisplayData | nbformat.IExecuteResult =>
          output.output_type === "display_data" || output.output_type === "execute_result",
      ),
    );
}
