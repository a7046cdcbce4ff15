/** Notebook tools: list_active_notebooks, open_notebook (alias connect_notebook), create_notebook, save_notebook. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { RuntimedError, type Session } from "../../index";
import { checkPackages } from "../inline-dependencies";
import { kernelspecMetadata, writeNotebookMetadata } from "../notebook-metadata";
import { resolveUserPath } from "../notebook-state";
import { currentValue } from "../current-value";
import { defineTool, textResult, type ToolContext, type ToolDefinition } from "../tool-registry";
import { cellListing } from "./cells-read";

/** How many cells the result of opening a notebook lists. */
const LISTED_CELLS = 50;


/** The result of joining a notebook: what it is, and its cells at a glance. */
function openedResult(verb: string, session: Session): CallToolResult {
  const cells = session.getCells().length;
  const kernelStatus = currentValue(session.kernelStatus$) ?? "not_started";
  const lines = [`${verb} notebook ${session.notebookId}: ${cells} cell${cells === 1 ? "" : "s"}, kernel ${kernelStatus}${session.envSource ? ` (${session.envSource})` : ""}.`];
  lines.push(...cellListing(session, { count: LISTED_CELLS }));
  if (cells > LISTED_CELLS) lines.push(`… ${cells - LISTED_CELLS} more: get_all_cells with start ${LISTED_CELLS}.`);
  return textResult(lines.join("\n"), { notebook_id: session.notebookId, cells, kernel_status: kernelStatus, env_source: session.envSource });
}

/** The notebook tools, over `context`. */
export function notebookTools(context: ToolContext): ToolDefinition[] {
  const openNotebook = {
    title: "Open a notebook",
    description:
      "Join a notebook so the other tools act on it: an active one by notebook_id (from list_active_notebooks; people and programs in it see your edits live, and you theirs), or an .ipynb file by path. Pass one of the two.",
    inputSchema: {
      notebook_id: z.string().optional().describe("The id of an active notebook, from list_active_notebooks."),
      path: z.string().optional().describe("The path of an .ipynb file (~ and relative paths allowed)."),
    },
    annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args: { notebook_id?: string; path?: string }) {
      if ((args.notebook_id === undefined) === (args.path === undefined)) {
        throw new RuntimedError("BAD_REQUEST", "Pass either notebook_id (from list_active_notebooks) or path (an .ipynb file), not both and not neither.");
      }
      const session = args.path !== undefined ? await context.notebooks.openFile(args.path) : await context.notebooks.join(args.notebook_id!);
      await session.sync();
      return openedResult("Opened", session);
    },
  };

  return [
    defineTool({
      name: "list_active_notebooks",
      title: "List active notebooks",
      description: "The notebooks open in the runtimed daemon now (by people, programs or agents), with their clients and kernel; open_notebook(notebook_id) joins one.",
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run() {
        const openHere = context.notebooks.current?.notebookId;
        const notebooks = (await context.notebooks.listRooms()).map((room) => ({
          notebook_id: room.notebookId,
          clients: room.clients,
          kernel_status: room.kernelStatus,
          env_source: room.envSource,
          open_here: room.notebookId === openHere,
        }));
        return textResult(notebooks.length ? JSON.stringify(notebooks, null, 2) : "No active notebooks. create_notebook starts one; open_notebook(path) opens an .ipynb file.", { notebooks });
      },
    }),

    defineTool({ name: "open_notebook", ...openNotebook }),
    defineTool({ name: "connect_notebook", ...openNotebook, title: "Connect to a notebook", description: `Same as open_notebook. ${openNotebook.description}` }),

    defineTool({
      name: "create_notebook",
      title: "Create a notebook",
      description:
        "Create a notebook and open it; returns its notebook_id. In memory unless path is given (save_notebook writes it). The kernel starts when the first cell runs, in an environment with the given dependencies.",
      inputSchema: {
        kernel: z.string().optional().describe('"python" (default), "deno", or an installed kernelspec name.'),
        runtime: z.string().optional().describe("Same as kernel (runtimed's name for it)."),
        dependencies: z.array(z.string()).optional().describe('Python packages the kernel\'s environment needs, e.g. ["pandas>=2", "matplotlib"].'),
        path: z.string().optional().describe("Create it as this new .ipynb file (must not exist yet)."),
      },
      annotations: { destructiveHint: false, openWorldHint: false },
      async run(args) {
        const kernel = (args.kernel ?? args.runtime ?? "python").trim();
        if (kernel === "") throw new RuntimedError("BAD_REQUEST", 'kernel is empty; use "python", "deno" or an installed kernelspec name.');
        const dependencies = args.dependencies?.length ? checkPackages(args.dependencies) : [];
        const session = await context.notebooks.create(args.path);
        const metadata: Record<string, unknown> = kernelspecMetadata(kernel);
        if (dependencies.length) metadata.runt = { uv: { dependencies } };
        writeNotebookMetadata(session, metadata);
        await session.flush();
        const where = args.path !== undefined ? `linked to ${session.notebookId} (save_notebook writes it)` : "in memory until save_notebook(path)";
        const deps = dependencies.length ? ` with dependencies ${dependencies.join(", ")}` : "";
        return textResult(`Created notebook ${session.notebookId} (${kernel} kernel${deps}), ${where}. It is open: create_cell adds cells; the kernel starts when the first one runs.`, {
          notebook_id: session.notebookId,
          kernel,
          dependencies,
          path: args.path !== undefined ? session.notebookId : null,
        });
      },
    }),

    defineTool({
      name: "save_notebook",
      title: "Save the notebook",
      description: "Write the open notebook as an .ipynb file: to path, or (path omitted) to the file it was opened from or last saved to.",
      inputSchema: { path: z.string().optional().describe("Where to write it (~ and relative paths allowed).") },
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
      async run(args) {
        const session = await context.notebooks.require();
        const target = args.path !== undefined ? resolveUserPath(args.path) : context.notebooks.savePath(session.notebookId);
        let saved: string;
        try {
          saved = await session.save(target);
        } catch (error) {
          if (target === undefined && error instanceof RuntimedError && error.code === "BAD_REQUEST") {
            throw new RuntimedError("BAD_REQUEST", `Notebook ${session.notebookId} has no file yet: call save_notebook with a path, e.g. "analysis.ipynb".`);
          }
          throw error;
        }
        context.notebooks.rememberSavePath(session.notebookId, saved);
        return textResult(`Saved notebook ${session.notebookId} to ${saved}.`, { notebook_id: session.notebookId, path: saved });
      },
    }),
  ];
}
