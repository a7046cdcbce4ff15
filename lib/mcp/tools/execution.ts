/** Execution tools: execute_cell, run_all_cells, get_results, interrupt_kernel, restart_kernel. */
import { z } from "zod";
import { RuntimedError, type Session } from "../../index";
import { executionContent, executionResult, structuredExecution } from "../execution-result";
import type { ExecutionRecord } from "../execution-store";
import type { ContentBlock } from "../format";
import { restartKernel } from "../notebook-kernel";
import { DEFAULT_TIMEOUT_SECS, runCell } from "../run-cell";
import { defineTool, textResult, type ToolCall, type ToolContext, type ToolDefinition } from "../tool-registry";
import { requireCell } from "./cells-read";

/** The `timeout_secs` argument every tool that runs cells takes. */
export const timeoutSecsArgument = z
  .number()
  .positive()
  .optional()
  .describe(`Seconds the cell may run before it is interrupted (default ${DEFAULT_TIMEOUT_SECS}); the result then says it timed out and has the outputs so far.`);

/** Runs a code cell of the open notebook; BAD_REQUEST for an unknown cell or one that is not code. */
export async function runCodeCell(context: ToolContext, session: Session, cellId: string, timeoutSecs: number | undefined, call: ToolCall): Promise<ExecutionRecord> {
  const cell = requireCell(session, cellId);
  if (cell.cellType !== "code") {
    throw new RuntimedError("BAD_REQUEST", `Cell ${cellId} is a ${cell.cellType} cell; only code cells execute. set_cell with cell_type "code" makes it one.`);
  }
  return runCell(session, cellId, context.executions, { timeoutSecs, call });
}

/** The execution tools, over `context`. */
export function executionTools(context: ToolContext): ToolDefinition[] {
  return [
    defineTool({
      name: "execute_cell",
      title: "Execute a cell",
      description:
        "Execute a code cell and wait for it: returns execution_id, status (done, error, timed_out) and its outputs. Outputs stream as progress notifications while it runs. Long outputs are cut; get_results(execution_id, full_output: true) returns all.",
      inputSchema: {
        cell_id: z.string().describe("The code cell to execute."),
        timeout_secs: timeoutSecsArgument,
      },
      annotations: { destructiveHint: true, openWorldHint: true },
      async run(args, call) {
        const session = await context.notebooks.require();
        return executionResult(await runCodeCell(context, session, args.cell_id, args.timeout_secs, call));
      },
    }),

    defineTool({
      name: "run_all_cells",
      title: "Run all cells",
      description:
        "Execute every code cell in order, each after the previous one finished; by default it stops at the first cell that fails. Returns each cell's execution_id, status and outputs.",
      inputSchema: {
        timeout_secs: timeoutSecsArgument,
        stop_on_error: z.boolean().optional().describe("Stop after the first cell that fails (default true); false runs the rest anyway."),
      },
      annotations: { destructiveHint: true, openWorldHint: true },
      async run(args, call) {
        const session = await context.notebooks.require();
        const codeCells = session.getCells().filter((cell) => cell.cellType === "code");
        if (codeCells.length === 0) return textResult("The notebook has no code cells to run.", { cells: [], not_run: [] });
        const records: ExecutionRecord[] = [];
        for (const [position, cell] of codeCells.entries()) {
          if (call.signal.aborted) break;
          const record = await runCell(session, cell.id, context.executions, { timeoutSecs: args.timeout_secs, call, label: `cell ${position + 1}/${codeCells.length}` });
          records.push(record);
          if (record.status !== "done" && args.stop_on_error !== false) break;
        }
        const notRun = codeCells.slice(records.length).map((cell) => cell.id);
        const done = records.filter((record) => record.status === "done").length;
        const summary = `Ran ${records.length} of ${codeCells.length} code cells: ${done} done${records.length > done ? `, ${records.length - done} failed` : ""}${notRun.length ? `, ${notRun.length} not run (${notRun.join(", ")})` : ""}.`;
        const content: ContentBlock[] = [{ type: "text", text: summary }];
        for (const record of records) content.push(...executionContent(record));
        return { content, structuredContent: { cells: records.map(structuredExecution), not_run: notRun } };
      },
    }),

    defineTool({
      name: "get_results",
      title: "Get an execution's results",
      description:
        "Status and outputs of an execution this server started, by execution_id (from execute_cell, run_all_cells, or create_cell/set_cell/replace_match with and_run), finished or still running. full_output: true returns long outputs uncut.",
      inputSchema: {
        execution_id: z.string().describe("The execution_id a run returned."),
        full_output: z.boolean().optional().describe("Return every output whole instead of cutting long ones (default false)."),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(args) {
        const record = context.executions.get(args.execution_id);
        if (!record) {
          throw new RuntimedError(
            "BAD_REQUEST",
            `No execution ${JSON.stringify(args.execution_id)} is known here: get_results finds the executions this MCP server started. get_cell shows a cell's current outputs.`,
          );
        }
        return executionResult(record, { full: args.full_output === true });
      },
    }),

    defineTool({
      name: "interrupt_kernel",
      title: "Interrupt the kernel",
      description: "Interrupt the cell the open notebook's kernel is running (like Ctrl-C); the cell ends with KeyboardInterrupt.",
      inputSchema: {},
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
      async run() {
        const session = await context.notebooks.require();
        try {
          await session.interrupt();
        } catch (error) {
          if (error instanceof RuntimedError && error.code === "KERNEL_NOT_RUNNING") {
            throw new RuntimedError("BAD_REQUEST", `No kernel is running in notebook ${session.notebookId}, so there is nothing to interrupt.`);
          }
          throw error;
        }
        return textResult(`Interrupted the kernel of notebook ${session.notebookId}.`, { notebook_id: session.notebookId, interrupted: true });
      },
    }),

    defineTool({
      name: "restart_kernel",
      title: "Restart the kernel",
      description:
        "Restart the open notebook's kernel with a fresh interpreter (all variables and imports are gone), in an environment built from the notebook's current dependencies: call it after add_dependency or remove_dependency.",
      inputSchema: {},
      annotations: { destructiveHint: true, openWorldHint: false },
      async run(_args, call) {
        const session = await context.notebooks.require();
        await restartKernel(session, call.progress);
        const kernelType = session.kernelType ?? "unknown";
        const envSource = session.envSource ?? "unknown";
        return textResult(
          `Restarted the kernel of notebook ${session.notebookId}: ${kernelType} in ${envSource}. Variables and imports are gone; run the cells you need again.`,
          { notebook_id: session.notebookId, kernel_type: kernelType, env_source: envSource },
        );
      },
    }),
  ];
}
