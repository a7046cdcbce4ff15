import type { Output } from "../index";

/** Where an execution stands: still `queued`/`running`, or how it ended. */
export type ExecutionStatus = "queued" | "running" | "done" | "error" | "timed_out" | "cancelled";

/** What the MCP server knows of one execution it started; updated in place while it runs. */
export interface ExecutionRecord {
  executionId: string;
  notebookId: string;
  cellId: string;
  status: ExecutionStatus;
  executionCount: number | null;
  /** The outputs so far (all of them once the execution ended), nbformat v4. */
  outputs: Output[];
  /** Why it ended as it did, when the outputs do not say (a timeout, a failure outside the kernel). */
  note?: string;
}

/** How many executions `get_results` can still find; the oldest are forgotten first. */
const DEFAULT_LIMIT = 200;

/**
 * The executions this server started, by execution id, so `get_results` can return them
 * (whole, with `full_output`) after the tool call that ran them has returned.
 */
export class ExecutionStore {
  // A Map iterates in insertion order: its first key is the oldest record.
  private readonly recordsById = new Map<string, ExecutionRecord>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** Keeps `record` (the same object the runner keeps updating). */
  add(record: ExecutionRecord): void {
    this.recordsById.set(record.executionId, record);
    while (this.recordsById.size > this.limit) this.recordsById.delete(this.recordsById.keys().next().value!);
  }

  get(executionId: string): ExecutionRecord | undefined {
    return this.recordsById.get(executionId);
  }
}
