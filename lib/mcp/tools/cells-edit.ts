/**
 * Editing cells: create_cell, set_cell, delete_cell, move_cell, clear_outputs, replace_match.
 * Edits are the Session's local-first document operations; each tool returns once the daemon
 * has them, so every other client in the room sees them by then.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { RuntimedError, type CellType, type Session } from "../../index";
import { executionResult } from "../execution-result";
import { findUniqueMatch, replaceSpan } from "../text-match";
import { defineTool, textResult, type ToolCall, type ToolContext, type ToolDefinition } from "../tool-registry";
import { requireCell } from "./cells-read";
import { runCodeCell, timeoutSecsArgument } from "./execution";

const cellTypeArgument = z.enum(["code", "markdown", "raw"]);
const andRunArgument = z.boolean().optional().describe("Execute the cell right after the edit and return its outputs (code cells only; default false).");

/** After an edit: runs the cell when asked (and it is code), with `done` first in the result; else just `done`. */
async function thenMaybeRun(
  context: ToolContext,
  session: Session,
  cellId: string,
  options: { andRun?: boolean; timeoutSecs?: number; call: ToolCall },
  done: string,
  structured: Record<string, unknown>,
): Promise<CallToolResult> {
  if (!options.andRun) return textResult(done, structured);
  const cellType = requireCell(session, cellId).cellType;
  if (cellType !== "code") return textResult(`${done} Not run: it is a ${cellType} cell, and only code cells execute.`, structured);
  const result = executionResult(await runCodeCell(context, session, cellId, options.timeoutSecs, options.call));
  return { content: [{ type: "text", text: done }, ...result.content], structuredContent: { ...structured, ...result.structuredContent } };
}

/** The index just after `afterCellId` in `cellIds`; 0 for null (the start); undefined (the end) when absent. */
function indexAfter(session: Session, cellIds: string[], afterCellId: string | null | undefined): number | undefined {
  if (afterCellId === undefined) return undefined;
  if (afterCellId === null) return 0;
  requireCell(session, afterCellId);
  return cellIds.indexOf(afterCellId) + 1;
}

/** What replace_match did: quoted when both texts are one line, else as a diff. */
function describeReplacement(cellId: string, at: number, match: string, replacement: string): string {
  if (!match.includes("\n") && !replacement.includes("\n")) return `Replaced ${JSON.stringify(match)} with ${JSON.stringify(replacement)} in cell ${cellId} (at character ${at}).`;
  const lines = (prefix: string, text: string) => text.split("\n").map((line) => `${prefix} ${line}`).join("\n");
  return `Replaced in cell ${cellId} (at character ${at}):\n${lines("-", match)}\n${lines("+", replacement)}`;
}

/** The cell-editing tools, over `context`. */
export function cellEditTools(context: ToolContext): ToolDefinition[] {
  return [
    defineTool({
      name: "create_cell",
      title: "Create a cell",
      description: "Create a cell after after_cell_id (null: at the start; omitted: at the end) and return its cell_id; with and_run, execute it and return its outputs too.",
      inputSchema: {
        source: z.string().optional().describe("The cell's source (default empty)."),
        cell_type: cellTypeArgument.optional().describe("code (default), markdown or raw."),
        after_cell_id: z.string().nullable().optional().describe("Insert after this cell; null inserts at the start; omit to append."),
        and_run: andRunArgument,
        timeout_secs: timeoutSecsArgument,
      },
      annotations: { destructiveHint: false, openWorldHint: false },
      async run(args, call) {
        const session = await context.notebooks.require();
        const cellIds = session.getCells().map((cell) => cell.id);
        const index = indexAfter(session, cellIds, args.after_cell_id);
        const cellId = session.createCell(args.source ?? "", { cellType: (args.cell_type ?? "code") as CellType, index });
        await session.flush();
        const position = session.getCells().findIndex((cell) => cell.id === cellId);
        return thenMaybeRun(context, session, cellId, { andRun: args.and_run, timeoutSecs: args.timeout_secs, call }, `Created cell: ${cellId}`, { cell_id: cellId, index: position });
      },
    }),

    defineTool({
      name: "set_cell",
      title: "Replace a cell's source or type",
      description: "Replace a cell's whole source and/or change its type; with and_run, execute it afterwards. For a small change inside a cell, replace_match is cheaper.",
      inputSchema: {
        cell_id: z.string().describe("The cell to change."),
        source: z.string().optional().describe("The new source (omit to keep it)."),
        cell_type: cellTypeArgument.optional().describe("The new type (omit to keep it)."),
        and_run: andRunArgument,
        timeout_secs: timeoutSecsArgument,
      },
      annotations: { destructiveHint: true, openWorldHint: false },
      async run(args, call) {
        const session = await context.notebooks.require();
        requireCell(session, args.cell_id);
        if (args.cell_type !== undefined) session.setCellType(args.cell_id, args.cell_type);
        if (args.source !== undefined) session.setSource(args.cell_id, args.source);
        await session.flush();
        const changed = args.source === undefined && args.cell_type === undefined ? `Cell ${args.cell_id} unchanged (give source or cell_type).` : `Cell ${args.cell_id} updated.`;
        return thenMaybeRun(context, session, args.cell_id, { andRun: args.and_run, timeoutSecs: args.timeout_secs, call }, changed, { cell_id: args.cell_id });
      },
    }),

    defineTool({
      name: "delete_cell",
      title: "Delete a cell",
      description: "Delete a cell from the open notebook.",
      inputSchema: { cell_id: z.string().describe("The cell to delete.") },
      annotations: { destructiveHint: true, openWorldHint: false },
      async run(args) {
        const session = await context.notebooks.require();
        requireCell(session, args.cell_id);
        session.deleteCell(args.cell_id);
        await session.flush();
        const result = { cell_id: args.cell_id, deleted: true };
        return textResult(JSON.stringify(result, null, 2), result);
      },
    }),

    defineTool({
      name: "move_cell",
      title: "Move a cell",
      description: "Move a cell to just after after_cell_id; null or omitted moves it to the start.",
      inputSchema: {
        cell_id: z.string().describe("The cell to move."),
        after_cell_id: z.string().nullable().optional().describe("Put the cell after this one; null or omitted: at the start."),
      },
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(args) {
        const session = await context.notebooks.require();
        requireCell(session, args.cell_id);
        if (args.after_cell_id === args.cell_id) throw new RuntimedError("BAD_REQUEST", "A cell cannot move after itself; give another cell as after_cell_id.");
        const others = session.getCells().map((cell) => cell.id).filter((id) => id !== args.cell_id);
        session.moveCell(args.cell_id, indexAfter(session, others, args.after_cell_id ?? null)!);
        await session.flush();
        const index = session.getCells().findIndex((cell) => cell.id === args.cell_id);
        const result = { cell_id: args.cell_id, after_cell_id: args.after_cell_id ?? null, index, moved: true };
        return textResult(JSON.stringify(result, null, 2), result);
      },
    }),

    defineTool({
      name: "clear_outputs",
      title: "Clear outputs",
      description: "Clear the outputs (and execution counts) of the given cells, or of every cell when cell_ids is omitted.",
      inputSchema: { cell_ids: z.array(z.string()).optional().describe("The cells to clear; omit for all cells.") },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
      async run(args) {
        const session = await context.notebooks.require();
        const known = new Set(session.getCells().map((cell) => cell.id));
        const cellIds = args.cell_ids ?? [...known];
        const unknown = cellIds.filter((id) => !known.has(id));
        if (unknown.length) throw new RuntimedError("CELL_NOT_FOUND", `No cell ${unknown.join(", ")} in notebook ${session.notebookId}; get_all_cells lists the cells and their ids.`);
        for (const cellId of cellIds) await session.clearOutputs(cellId);
        const result = { cleared: cellIds.length, cell_ids: cellIds };
        return textResult(JSON.stringify(result, null, 2), result);
      },
    }),

    defineTool({
      name: "replace_match",
      title: "Replace text in a cell",
      description:
        "Replace the one occurrence of literal text `match` in a cell with `replacement` (a character-level edit that merges with others' edits). When match occurs several times, context_before/context_after pick one. With and_run, execute the cell afterwards.",
      inputSchema: {
        cell_id: z.string().describe("The cell to edit."),
        match: z.string().describe("The exact text to replace; it must occur once (or once with the given context)."),
        replacement: z.string().optional().describe("The text to put in its place."),
        content: z.string().optional().describe("Same as replacement (runtimed's name for it)."),
        context_before: z.string().optional().describe("Text that stands before the intended occurrence."),
        context_after: z.string().optional().describe("Text that stands after the intended occurrence."),
        and_run: andRunArgument,
        timeout_secs: timeoutSecsArgument,
      },
      annotations: { destructiveHint: false, openWorldHint: false },
      async run(args, call) {
        const replacement = args.replacement ?? args.content;
        if (replacement === undefined) throw new RuntimedError("BAD_REQUEST", "replace_match needs replacement: the text to put in place of match (\"\" deletes it).");
        const session = await context.notebooks.require();
        const source = requireCell(session, args.cell_id).source;
        const span = findUniqueMatch(source, { match: args.match, contextBefore: args.context_before, contextAfter: args.context_after }, args.cell_id);
        const updated = replaceSpan(source, span, replacement);
        session.setSource(args.cell_id, updated);
        await session.flush();
        const done = describeReplacement(args.cell_id, span.start, args.match, replacement);
        return thenMaybeRun(context, session, args.cell_id, { andRun: args.and_run, timeoutSecs: args.timeout_secs, call }, done, { cell_id: args.cell_id, source: updated });
      },
    }),
  ];
}
