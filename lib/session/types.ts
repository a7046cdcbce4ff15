import type * as nbformat from "@jupyterlab/nbformat";
import type { CellType } from "../notebook/schema";
import type { RuntimedErrorCode } from "../protocol/errors";
import type { KernelStatus, QueueEntry } from "../protocol/messages";

export type { CellType } from "../notebook/schema";
export type { KernelStatus } from "../protocol/messages";
/** An nbformat v4 output. */
export type Output = nbformat.IOutput;

/** A cell as read from the notebook document. */
export interface Cell {
  id: string;
  cellType: CellType;
  source: string;
  executionCount: number | null;
  outputs: Output[];
  metadata: Record<string, unknown>;
}

/** The error an execution raised, as the kernel reported it. */
export interface ExecutionError {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** What one execution of one cell produced. */
export interface ExecutionResult {
  cellId: string;
  executionId: string;
  /** True when the kernel ran the cell without an exception. */
  success: boolean;
  executionCount: number | null;
  outputs: Output[];
  /** Every stdout stream output, concatenated. */
  stdout: string;
  /** Every stderr stream output, concatenated. */
  stderr: string;
  /** The display_data and execute_result outputs, in order. */
  displayData: (nbformat.IDisplayData | nbformat.IExecuteResult)[];
  /** The error output, if the cell raised (or the kernel died: ename `KERNEL_DIED`). */
  error: ExecutionError | null;
}

/**
 * How a stream output changed, so a terminal can be updated without comparing whole texts: its
 * text is now the previous text without its old `tail` (or nothing, when `reset`), then
 * `appended`, then the new `tail` (the unfinished line(s) a `\r` may still rewrite).
 */
export interface StreamDelta {
  appended: string;
  tail: string;
  reset: boolean;
}

/** The events of one execution, in order; `result` is always last. */
export type ExecutionEvent =
  | { type: "queued"; executionId: string; cellId: string }
  | { type: "started"; executionId: string; cellId: string; executionCount: number | null }
  /** The output now at `index`; for a stream, `delta` says what changed since the last one. */
  | { type: "output"; executionId: string; cellId: string; index: number; output: Output; delta?: StreamDelta }
  | { type: "cleared"; executionId: string; cellId: string }
  | { type: "input_request"; executionId: string; cellId: string; prompt: string; password: boolean }
  | { type: "result"; executionId: string; cellId: string; result: ExecutionResult };

export type QueuedEvent = Extract<ExecutionEvent, { type: "queued" }>;
export type StartedEvent = Extract<ExecutionEvent, { type: "started" }>;
export type OutputEvent = Extract<ExecutionEvent, { type: "output" }>;
export type ClearedEvent = Extract<ExecutionEvent, { type: "cleared" }>;
export type InputRequestEvent = Extract<ExecutionEvent, { type: "input_request" }>;
export type ResultEvent = Extract<ExecutionEvent, { type: "result" }>;

/** What is running and waiting in a room. */
export interface QueueState {
  executing: { executionId: string; cellId: string } | null;
  queued: { executionId: string; cellId: string }[];
}

/**
 * The state of the connection to the daemon. `stopped`: the daemon was stopped on purpose
 * (`runtimed daemon stop`); the session does not bring it back until `connect()` is called.
 */
export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnecting" | "stopped" | "closed";

/** Every broadcast of the room, in TypeScript's casing, outputs decoded. */
export type RoomEvent =
  | { type: "kernel_status"; status: KernelStatus; kernelType: string | null; envSource: string | null }
  | { type: "execution_queued"; executionId: string; cellId: string }
  | { type: "execution_started"; executionId: string; cellId: string; executionCount: number | null }
  /**
   * The output now at `index` of a running cell. For a stream, `delta` says what changed (the
   * wire carries only that); `incomplete` means this client missed a piece of the stream (it
   * joined or reconnected mid-cell): the document has all of it once the cell is done.
   */
  | { type: "output"; executionId: string; cellId: string; index: number; output: Output; delta?: StreamDelta; incomplete?: true }
  | { type: "clear_outputs"; executionId: string | null; cellId: string }
  | { type: "display_update"; cellId: string; index: number; output: Output }
  | {
      type: "execution_done";
      executionId: string;
      cellId: string;
      success: boolean;
      executionCount: number | null;
      error: { code: RuntimedErrorCode; message: string } | null;
    }
  | { type: "queue_changed"; executing: QueueState["executing"]; queued: QueueState["queued"] }
  | { type: "kernel_error"; message: string }
  | { type: "input_request"; executionId: string | null; prompt: string; password: boolean }
  | { type: "comm"; msgType: string; content: Record<string, unknown> }
  | { type: "env_progress"; phase: string; package: string | null; fraction: number | null; message: string | null }
  | { type: "daemon_stopping"; message: string };

/** A change to the document, local or from another client. */
export interface DocumentPatch {
  origin: "local" | "remote";
  patches: import("@automerge/automerge").Patch[];
}

/** Converts a queue entry from the wire. */
export function toQueueEntry(entry: QueueEntry): { executionId: string; cellId: string } {
  return { executionId: entry.execution_id, cellId: entry.cell_id };
}

/** An environment build's progress, as `envProgress$` emits it. */
export type EnvProgressEvent = Extract<RoomEvent, { type: "env_progress" }>;
