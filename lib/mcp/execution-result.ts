import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ExecutionRecord } from "./execution-store";
import { cellHeader, outputsToContent, type ContentBlock } from "./format";

/** The call that returns an execution's outputs uncut, as the truncation note names it. */
export function fullOutputHint(executionId: string): string {
  return `get_results with execution_id "${executionId}" and full_output: true`;
}

/** An execution as content blocks: its header line, a status note while it is unfinished or when it ended oddly, then its outputs. */
export function executionContent(record: ExecutionRecord, options: { full?: boolean } = {}): ContentBlock[] {
  const blocks: ContentBlock[] = [
    { type: "text", text: cellHeader(record.cellId, "code", { status: record.status, executionCount: record.executionCount, executionId: record.executionId }) },
  ];
  if (record.status === "queued" || record.status === "running") {
    blocks.push({ type: "text", text: `Still ${record.status}: the outputs below may be incomplete; call get_results with execution_id "${record.executionId}" again for more.` });
  }
  if (record.note) blocks.push({ type: "text", text: record.note });
  const outputs = outputsToContent(record.outputs, { full: options.full, fullOutputHint: fullOutputHint(record.executionId) });
  if (outputs.length === 0 && record.status !== "queued") blocks.push({ type: "text", text: "(no output)" });
  blocks.push(...outputs);
  return blocks;
}

/** An execution in snake_case for `structuredContent`, with its full nbformat outputs. */
export function structuredExecution(record: ExecutionRecord): Record<string, unknown> {
  return {
    notebook_id: record.notebookId,
    cell_id: record.cellId,
    execution_id: record.executionId,
    status: record.status,
    execution_count: record.executionCount,
    outputs: record.outputs,
    ...(record.note ? { note: record.note } : {}),
  };
}

/** The result of a tool that ran one cell (or looked an execution up). */
export function executionResult(record: ExecutionRecord, options: { full?: boolean } = {}): CallToolResult {
  return { content: executionContent(record, options), structuredContent: structuredExecution(record) };
}
