import { filter, map, scan, type OperatorFunction } from "rxjs";
import type { ClearedEvent, ExecutionEvent, Output, OutputEvent } from "../types";

/**
 * Emits the execution's whole output list after each change (an output added or updated, or
 * the outputs cleared), each time a new array: what a view that re-renders the cell needs.
 *
 * ```ts
 * session.execute(id).pipe(latestOutputs()).subscribe((outputs) => cellView.render(outputs));
 * ```
 */
export function latestOutputs(): OperatorFunction<ExecutionEvent, Output[]> {
  return (events$) =>
    events$.pipe(
      filter((event): event is OutputEvent | ClearedEvent => event.type === "output" || event.type === "cleared"),
      scan((current: Output[], event) => {
        if (event.type === "cleared") return [];
        const next = [...current];
        next[event.index] = event.output;
        return next;
      }, []),
      // A hole only appears if an index arrives out of order; consumers get a dense list.
      map((current) => current.filter((output): output is Output => output !== undefined)),
    );
}
