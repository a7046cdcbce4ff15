import type * as nbformat from "@jupyterlab/nbformat";
import { RuntimedError } from "../protocol/errors";
import type { ExecutionEvent, ExecutionResult, Output, RoomEvent } from "./types";

/**
 * Follows one execution through the room's events: keeps its outputs as they merge and turns
 * the room events that carry its id into execution events, ending with the result.
 */
export class ExecutionTracker {
  private outputs: Output[] = [];
  private executionCount: number | null = null;
  /** Set once events were missed (a dropped connection, a gap in a stream): the result then takes the document's outputs. */
  private missed = false;

  constructor(
    readonly cellId: string,
    readonly executionId: string,
    /** The cell's outputs as the document has them (the daemon writes them there before it says an execution is done). */
    private readonly documentOutputs: () => Output[] = () => [],
  ) {}

  /** The execution events this room event means (none when it is not about this execution). */
  apply(event: RoomEvent): ExecutionEvent[] {
    const base = { executionId: this.executionId, cellId: this.cellId };
    switch (event.type) {
      case "execution_queued":
        return event.executionId === this.executionId ? [{ type: "queued", ...base }] : [];
      case "execution_started":
        if (event.executionId !== this.executionId) return [];
        this.executionCount = event.executionCount;
        return [{ type: "started", ...base, executionCount: event.executionCount }];
      case "output": {
        if (event.executionId !== this.executionId) return [];
        if (event.incomplete) this.missed = true;
        this.outputs[event.index] = event.output;
        const output: ExecutionEvent = { type: "output", ...base, index: event.index, output: event.output };
        if (event.delta) output.delta = event.delta;
        return [output];
      }
      case "display_update":
        if (event.cellId !== this.cellId || event.index >= this.outputs.length) return [];
        this.outputs[event.index] = event.output;
        return [{ type: "output", ...base, index: event.index, output: event.output }];
      case "clear_outputs":
        if (event.executionId !== this.executionId) return [];
        this.outputs = [];
        return [{ type: "cleared", ...base }];
      case "input_request":
        return event.executionId === this.executionId ? [{ type: "input_request", ...base, prompt: event.prompt, password: event.password }] : [];
      case "execution_done":
        if (event.executionId !== this.executionId) return [];
        if (event.executionCount !== null) this.executionCount = event.executionCount;
        return [{ type: "result", ...base, result: this.result(event.success, event.error) }];
      default:
        return [];
    }
  }

  /** Notes that some of this execution's events were missed: its result takes the outputs the document has. */
  missedEvents(): void {
    this.missed = true;
  }

  /** A request failure that happened before the daemon took the execution. */
  static requestFailed(error: unknown): RuntimedError {
    return error instanceof RuntimedError ? error : new RuntimedError("INTERNAL", String(error));
  }

  private result(success: boolean, failure: { code: string; message: string } | null): ExecutionResult {
    const outputs = this.missed ? this.documentOutputs() : this.outputs;
    const result = buildResult(this.cellId, this.executionId, success, this.executionCount, outputs);
    // Failures outside the kernel's code (cancelled while queued, kernel gone) have no error output.
    if (!success && result.error === null && failure) result.error = { ename: failure.code, evalue: failure.message, traceback: [] };
    return result;
  }
}

function streamText(outputs: Output[], name: "stdout" | "stderr"): string {
  let text = "";
  for (const output of outputs) {
    if (output.output_type === "stream" && (output as nbformat.IStream).name === name) {
      const value = (output as nbformat.IStream).text;
      text += Array.isArray(value) ? value.join("") : value;
    }
  }
  return text;
}

/** Summarises an execution's outputs the way runtimed's ExecutionResult does. */
export function buildResult(
  cellId: string,
  executionId: string,
  success: boolean,
  executionCount: number | null,
  outputs: Output[],
): ExecutionResult {
  const dense = outputs.filter((output): output is Output => output !== undefined);
  const errorOutput = dense.find((output): output is nbformat.IError => output.output_type === "error");
  return {
    cellId,
    executionId,
    success,
    executionCount,
    outputs: dense,
    stdout: streamText(dense, "stdout"),
    stderr: streamText(dense, "stderr"),
    displayData: dense.filter(
      (output): output is nbformat.IDisplayData | nbformat.IExecuteResult =>
        output.output_type === "display_data" || output.output_type === "execute_result",
    ),
    error: errorOutput ? { ename: errorOutput.ename, evalue: errorOutput.evalue, traceback: [...errorOutput.traceback] } : null,
  };
}
