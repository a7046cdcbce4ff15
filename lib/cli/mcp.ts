import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createRuntimedMcpServer } from "../mcp/server";
import { PACKAGE_VERSION } from "../protocol/version";
import { parseCommandArgs, wantsHelp } from "./args";
import type { CliContext } from "./context";
import { waitForSignal } from "./signals";

/** Help for `runtimed mcp`. */
export const mcpHelp = `Usage: runtimed mcp

Serve the Model Context Protocol on stdin/stdout, so an AI agent can create, edit and run cells
in live runtimed notebooks (the same rooms people and programs use). Starts the daemon if none is
running. Meant to be started by an MCP client, e.g. with this configuration:

  {"mcpServers": {"runtimed": {"command": "npx", "args": ["runtimed", "mcp"]}}}

Options:
  --socket PATH     The daemon's socket
  --cache-dir DIR   The daemon's cache dir
  -h, --help        Show this help

It runs until the client closes its stdin (or on Ctrl-C / SIGTERM), then leaves its notebooks:
kernels no one else uses are shut down.
`;

/** `runtimed mcp`: serves MCP over stdio until the client goes away. */
export async function mcpCommand(argv: string[], context: CliContext): Promise<number> {
  if (wantsHelp(argv)) {
    context.stdout.write(mcpHelp);
    return 0;
  }
  parseCommandArgs(argv, {}, "runtimed mcp --help");
  const { server, close } = createRuntimedMcpServer({ socketPath: context.socketPath, cacheDir: context.cacheDir, version: PACKAGE_VERSION });
  const clientGone = new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  const signal = waitForSignal();
  try {
    await server.connect(new StdioServerTransport(process.stdin, process.stdout));
    await Promise.race([clientGone, signal.received]);
  } finally {
    await close().catch(() => undefined);
    signal.dispose();
    // stdin stays referenced after a signal; the server is done with it.
    process.stdin.destroy();
  }
  return 0;
}
