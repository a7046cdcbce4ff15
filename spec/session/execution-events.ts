import type * as nbformat from "@jupyterlab/nbformat";
import { buildResult } from "../../lib/session/execution-tracker";
import type { ExecutionEvent, ExecutionResult, Output } from "../../lib/session/types";

/** Builders for the events of one execution, so marble value maps read like the stream. */
export function eventsOf(cellId: string, executionId = `${cellId}-run`) {
  const base = { cellId, executionId };
  return {
    queued: (): ExecutionEvent => ({ type: "queued", ...base }),
    started: (executionCount: number | null): ExecutionEvent => ({ type: "started", ...base, executionCount }),
    output: (index: number, output: Output): ExecutionEvent => ({ type: "output", ...base, index, output }),
    cleared: (): ExecutionEvent => ({ type: "cleared", ...base }),
    result: (success: boolean, outputs: Output[] = [], executionCount: number | null = 1): ExecutionEvent => ({
      type: "result",
      ...base,
      result: buildResult(cellId, executionId, success, executionCount, outputs),
    }),
  };
}

export const stream = (name: "stdout" | "stderr", text: string): nbformat.IStream => ({ output_type: "stream", name, text });

export const display = (data: nbformat.IMimeBundle): nbformat.IDisplayData => ({ output_type: "display_data", data, metadata: {} });

export const executeResult = (data: nbformat.IMimeBundle, executionCount = 1): nbformat.IExecuteResult => ({
  output_type: "execute_result",
  data,
  metadata: {},
  execution_count: executionCount,
});

export const errorOutput = (ename: string, evalue: string): nbformat.IError => ({
  output_type: "error",
  ename,
  evalue,
  traceback: [`${ename}: ${evalue}`],
});

/** The result a result event carries. */
export function resultOf(event: ExecutionEvent): ExecutionResult {
  if (event.type !== "result") throw new Error(`expected a result event, got ${event.type}`);
  return event.result;
}
