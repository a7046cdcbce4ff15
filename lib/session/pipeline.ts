import { concatMap, from, takeWhile, toArray, type Observable, type OperatorFunction } from "rxjs";
import { toResult } from "./operators/to-result";
import type { ExecutionEvent, ExecutionResult } from "./types";

/** How `executeAll` runs its cells. */
export interface ExecuteAllOptions {
  /** Stop after the first unsuccessful result; the remaining cells are not executed. Default true. */
  stopOnError?: boolean;
}

/**
 * Executes cells one after another, each only once the previous one has its result, as one
 * cold observable of all their events (each carries its `cellId`). With `stopOnError` (the
 * default) it completes after the first failing cell's result. Unsubscribing cancels the
 * running cell (if `execute` cancels on unsubscribe) and the rest never start.
 *
 * ```ts
 * executeAll((cellId) => session.execute(cellId), [loadId, transformId, plotId])
 *   .pipe(summarize())
 *   .subscribe((results) => console.table(results.map(({ cellId, success }) => ({ cellId, success }))));
 * ```
 */
export function executeAll(
  execute: (cellId: string) => Observable<ExecutionEvent>,
  cellIds: readonly string[],
  options: ExecuteAllOptions = {},
): Observable<ExecutionEvent> {
  // concatMap calls `execute` only when the previous execution completed, so a cell that is
  // never reached is never sent to the daemon.
  const events$ = from(cellIds).pipe(concatMap((cellId) => execute(cellId)));
  if (!(options.stopOnError ?? true)) return events$;
  return events$.pipe(takeWhile((event) => !(event.type === "result" && !event.result.success), true));
}

/**
 * Collects the results of every execution in a stream of execution events (a pipeline from
 * `executeAll`, or one execution) and emits them as one array when the stream completes.
 *
 * ```ts
 * const results = await lastValueFrom(session.runAll().pipe(summarize()));
 * const failed = results.filter((result) => !result.success);
 * ```
 */
export function summarize(): OperatorFunction<ExecutionEvent, ExecutionResult[]> {
  return (events$) => events$.pipe(toResult(), toArray());
}
