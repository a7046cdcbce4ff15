/** Reading cells: get_cell and get_all_cells, and the lookups other tools share. */
import { z } from "zod";
import { RuntimedError, type Cell, type Session } from "../../index";
import { cellHeader, cellSummary, outputsToContent, structuredCell, type ContentBlock } from "../format";
import { currentValue } from "../current-value";
import { defineTool, type ToolContext, type ToolDefinition } from "../tool-registry";


/** A cell of the open notebook; CELL_NOT_FOUND pointing at get_all_cells when there is none. */
export function requireCell(session: Session, cellId: string): Cell {
  try {
    return session.getCell(cellId);
  } catch (error) {
    if (error instanceof RuntimedError && error.code === "CELL_NOT_FOUND") {
      throw new RuntimedError("CELL_NOT_FOUND", `No cell ${JSON.stringify(cellId)} in notebook ${session.notebookId}; get_all_cells lists the cells and their ids.`);
    }
    throw error;
  }
}

/** Which cells are running or waiting in the room now (anyone's executions). */
function executionStatusByCell(session: Session): Map<string, "running" | "queued"> {
  const status = new Map<string, "running" | "queued">();
  const queue = currentValue(session.queueState$);
  for (const entry of queue?.queued ?? []) status.set(entry.cellId, "queued");
  if (queue?.executing) status.set(queue.executing.cellId, "running");
  return status;
}

/** One summary line per cell, from `start`, at most `count` of them. */
export function cellListing(session: Session, options: { start?: number; count?: number; previewChars?: number } = {}): string[] {
  const cells = session.getCells();
  const status = executionStatusByCell(session);
  const start = options.start ?? 0;
  const end = options.count === undefined ? cells.length : start + options.count;
  return cells.slice(start, end).map((cell, offset) => cellSummary(start + offset, cell, status.get(cell.id), options.previewChars ?? 80));
}

function fullCellHint(cellId: string): string {
  return `get_cell with cell_id "${cellId}" and full_output: true`;
}

/** A cell as content: its header, its source, its outputs. */
function cellContent(cell: Cell, status: string | undefined, full: boolean): ContentBlock[] {
  const blocks: ContentBlock[] = [
    { type: "text", text: cellHeader(cell.id, cell.cellType, { status, executionCount: cell.executionCount }) },
    { type: "text", text: cell.source === "" ? "(empty source)" : cell.source },
  ];
  blocks.push(...outputsToContent(cell.outputs, { full, fullOutputHint: fullCellHint(cell.id) }));
  return blocks;
}

/** The cell-reading tools, over `context`. */
export function cellReadTools(context: ToolContext): ToolDefinition[] {
  return [
    defineTool({
      name: "get_cell",
      title: "Get a cell",
      description: "A cell's type, source, execution count and outputs (long outputs cut unless full_output).",
      inputSchema: {
        cell_id: z.string().describe("The cell to read."),
        full_output: z.boolean().optional().describe("Return every output whole instead of cutting long ones (default false)."),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(args) {
        const session = await context.notebooks.require();
        const cell = requireCell(session, args.cell_id);
        const status = executionStatusByCell(session).get(cell.id);
        return { content: cellContent(cell, status, args.full_output === true), structuredContent: structuredCell(cell) };
      },
    }),

    defineTool({
      name: "get_all_cells",
      title: "Get all cells",
      description:
        "The open notebook's cells in order. format \"summary\" (default): one line per cell with its index, type, status, id, execution count and a source preview; \"rich\": each cell's source and outputs; \"json\": the cells as JSON.",
      inputSchema: {
        format: z.enum(["summary", "rich", "json"]).optional().describe("summary (default), rich or json."),
        start: z.number().int().nonnegative().optional().describe("Index of the first cell to return (default 0)."),
        count: z.number().int().positive().optional().describe("How many cells to return (default: all)."),
        preview_chars: z.number().int().positive().optional().describe("Source preview length in summary format (default 80)."),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run(args) {
        const session = await context.notebooks.require();
        const all = session.getCells();
        const start = args.start ?? 0;
        const cells = all.slice(start, args.count === undefined ? undefined : start + args.count);
        const structuredContent = { notebook_id: session.notebookId, total_cells: all.length, start, cells: cells.map(structuredCell) };
        const heading = `Notebook ${session.notebookId}: ${all.length} cell${all.length === 1 ? "" : "s"}${cells.length < all.length ? ` (showing ${cells.length} from index ${start})` : ""}`;
        if (args.format === "json") {
          const compact = cells.map((cell, offset) => ({ index: start + offset, ...structuredCell(cell) }));
          return { content: [{ type: "text", text: JSON.stringify(compact, null, 2) }], structuredContent };
        }
        if (args.format === "rich") {
          const status = executionStatusByCell(session);
          const content: ContentBlock[] = [{ type: "text", text: heading }];
          for (const cell of cells) content.push(...cellContent(cell, status.get(cell.id), false));
          return { content, structuredContent };
        }
        const lines = cellListing(session, { start, count: args.count, previewChars: args.preview_chars });
        return { content: [{ type: "text", text: [heading, ...lines].join("\n") }], structuredContent };
      },
    }),
  ];
}
