/**
 * `runtimed mcp`: a Model Context Protocol server over live runtimed notebooks. It is a client
 * like any other (a `Session` per notebook it joins), so an agent's edits and executions appear
 * at once for every person and program in the room, and theirs for the agent. Tool names and
 * arguments follow runtimed's own MCP server, so prompts written for it carry over.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ExecutionStore } from "./execution-store";
import { OpenNotebooks, type DaemonAddress } from "./notebook-state";
import { registerTools, type ToolContext } from "./tool-registry";
import { cellEditTools } from "./tools/cells-edit";
import { cellReadTools } from "./tools/cells-read";
import { dependencyTools } from "./tools/dependencies";
import { executionTools } from "./tools/execution";
import { notebookTools } from "./tools/notebooks";

/** Where the daemon is, and the version the server reports. */
export interface RuntimedMcpOptions extends DaemonAddress {
  version: string;
}

/** What the server tells a client's model about using it (MCP `instructions`). */
export const SERVER_INSTRUCTIONS = `runtimed runs Jupyter kernels behind live, shared notebooks: people, programs and other agents in the same notebook see your edits and outputs as they happen, and you see theirs.
Start with create_notebook, or list_active_notebooks then open_notebook (an active notebook_id, or the path of an .ipynb file).
create_cell adds a cell (and_run: true also executes it), replace_match edits part of one, execute_cell runs one; results carry an execution_id for get_results (full_output: true for long outputs).
Dependencies: add_dependency then restart_kernel. save_notebook writes an .ipynb file.`;

/** An MCP server with every runtimed tool registered, and how to leave its notebooks. */
export interface RuntimedMcpServer {
  server: McpServer;
  /** Leaves every notebook joined (shutting down kernels no one else uses) and closes the server. */
  close(): Promise<void>;
}

/** Creates the server; connect it to a transport (`server.connect(new StdioServerTransport())`). */
export function createRuntimedMcpServer(options: RuntimedMcpOptions): RuntimedMcpServer {
  const context: ToolContext = {
    notebooks: new OpenNotebooks({ socketPath: options.socketPath, cacheDir: options.cacheDir }),
    executions: new ExecutionStore(),
  };
  const server = new McpServer({ name: "runtimed", title: "runtimed notebooks", version: options.version }, { instructions: SERVER_INSTRUCTIONS });
  registerTools(server, [
    ...notebookTools(context),
    ...cellReadTools(context),
    ...cellEditTools(context),
    ...executionTools(context),
    ...dependencyTools(context),
  ]);
  return {
    server,
    async close() {
      await context.notebooks.closeAll();
      await server.close();
    },
  };
}
