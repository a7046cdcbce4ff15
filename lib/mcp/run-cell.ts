import type { Subscription } from "rxjs";
import { RuntimedError, type ExecutionEvent, type Output, type Session } from "../index";
import type { ExecutionRecord, ExecutionStore } from "./execution-store";
import { outputText, stripAnsi } from "./format";
import { ensureKernel } from "./notebook-kernel";
import type { ToolCall } from "./tool-registry";

/** How long a cell may run before it is interrupted, unless the call says otherwise (runtimed's default). */
export const DEFAULT_TIMEOUT_SECS = 30;
/** A progress message carries at most this much of an output. */
const PROGRESS_CHARS = 2000;

/** How to run one cell. */
export interface RunCellOptions {
  timeoutSecs?: number;
  call: ToolCall;
  /** Prefixed to progress messages, e.g. `cell 2/5` when several cells run. */
  label?: string;
}

/**
 * Runs a code cell to its end and resolves with its record (kept in `store` from its first
 * event, so `get_results` sees it while it runs). Outputs go out as progress notifications as
 * they arrive. A timeout interrupts the cell and resolves with status `timed_out` and the
 * outputs so far; a call the client cancels cancels the execution.
 */
export async function runCell(session: Session, cellId: string, store: ExecutionStore, options: RunCellOptions): Promise<ExecutionRecord> {
  const { call } = options;
  const prefix = options.label ? `${options.label}: ` : "";
  await ensureKernel(session, (message) => call.progress(prefix + message));
  const timeoutSecs = options.timeoutSecs ?? DEFAULT_TIMEOUT_SECS;

  return new Promise<ExecutionRecord>((resolve, reject) => {
    let record: ExecutionRecord | undefined;
    const progressOf = new OutputProgress();
    const onEvent = (event: ExecutionEvent) => {
      if (!record) {
        record = { executionId: event.executionId, notebookId: session.notebookId, cellId, status: "queued", executionCount: null, outputs: [] };
        store.add(record);
      }
      switch (event.type) {
        case "started":
          record.status = "running";
          record.executionCount = event.executionCount;
          call.progress(`${prefix}running ${cellId}${event.executionCount !== null ? ` [${event.executionCount}]` : ""}`);
          break;
        case "output": {
          record.outputs[event.index] = event.output;
          const message = progressOf.change(event.index, event.output);
          if (message) call.progress(prefix + message);
          break;
        }
        case "cleared":
          record.outputs = [];
          progressOf.clear();
          break;
        case "input_request":
          record.note = `The cell is waiting for input (${JSON.stringify(event.prompt)}), which an agent cannot type; it runs until interrupt_kernel or its timeout.`;
          call.progress(prefix + record.note);
          break;
        case "result":
          for (const tail of progressOf.rest()) call.progress(prefix + tail);
          record.status = event.result.success ? "done" : "error";
          record.executionCount = event.result.executionCount;
          record.outputs = event.result.outputs;
          // A failure outside the kernel's code (kernel died, environment failed) has no error output.
          if (!event.result.success && event.result.error && !event.result.outputs.some((output) => output.output_type === "error")) {
            record.note = `${event.result.error.ename}: ${event.result.error.evalue}`;
          }
          break;
      }
    };
    // Unsubscribing from `execute` before its result cancels the execution in the daemon.
    let subscription: Subscription | undefined;
    const onAbort = () => {
      subscription?.unsubscribe();
      if (!record) return reject(new RuntimedError("CANCELLED", `The client cancelled the execution of ${cellId}`));
      record.status = "cancelled";
      record.note = "The client cancelled this call; the execution was cancelled.";
      resolve(record);
    };
    call.signal.addEventListener("abort", onAbort, { once: true });
    subscription = session.execute(cellId, { timeoutSecs }).subscribe({
      next: onEvent,
      error: (error: unknown) => {
        call.signal.removeEventListener("abort", onAbort);
        if (!record) return reject(error);
        record.outputs = record.outputs.filter((output) => output !== undefined);
        if (error instanceof RuntimedError && error.code === "TIMEOUT") {
          record.status = "timed_out";
          record.note = `Timed out: ${error.message}. Call execute_cell with a larger timeout_secs if it needs longer.`;
        } else {
          record.status = "error";
          record.note = error instanceof Error ? error.message : String(error);
        }
        resolve(record);
      },
      complete: () => {
        call.signal.removeEventListener("abort", onAbort);
        resolve(record!);
      },
    });
  });
}

/**
 * What to say about an output that arrived: for a stream the whole lines added since the last
 * message (the daemon re-sends a stream whole as it grows, and a `print` may arrive as its text
 * and then its newline), else the output as text. A stream's unfinished last line waits for its
 * newline or for the end of the execution (`rest`).
 */
class OutputProgress {
  /** Per stream output: the lines already sent (a prefix of its text, ending in a newline). */
  private readonly sentByIndex = new Map<number, string>();
  private readonly textByIndex = new Map<number, string>();

  change(index: number, output: Output): string | undefined {
    if (output.output_type === "stream") {
      const text = outputText(output) ?? "";
      this.textByIndex.set(index, text);
      // A rewritten stream (a `\r` progress bar redrawn above its last line) is sent again.
      const sent = text.startsWith(this.sentByIndex.get(index) ?? "") ? (this.sentByIndex.get(index) ?? "") : "";
      const lines = text.slice(0, text.lastIndexOf("\n") + 1);
      this.sentByIndex.set(index, lines.length > sent.length ? lines : sent);
      return lines.length > sent.length ? clip(lines.slice(sent.length)) : undefined;
    }
    const text = outputText(output);
    if (text) return clip(stripAnsi(text));
    return `[${output.output_type}]`;
  }

  /** The unfinished last line of each stream, not sent yet. */
  rest(): string[] {
    return [...this.textByIndex].map(([index, text]) => text.slice((this.sentByIndex.get(index) ?? "").length)).filter((tail) => tail.length > 0).map(clip);
  }

  clear(): void {
    this.sentByIndex.clear();
    this.textByIndex.clear();
  }
}

function clip(text: string): string {
  return text.length <= PROGRESS_CHARS ? text : `${text.slice(0, PROGRESS_CHARS)}… [${text.length - PROGRESS_CHARS} more characters in the result]`;
}
