import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import type { TestRoom } from "../integration/harness";

const REPO_ROOT = path.join(__dirname, "..", "..");
/** The built `runtimed` entry, as `npx runtimed` runs it from an installed package. */
export const BUILT_CLI = path.join(REPO_ROOT, "dist", "cli", "main.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(file));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

/**
 * The specs drive the built `runtimed` as users run it. CI builds before `npm test`; elsewhere a
 * missing or stale dist/ (older than a file in lib/) is rebuilt here, so the specs never test old code.
 */
export function ensureBuilt(): void {
  const builtAt = fs.existsSync(BUILT_CLI) ? fs.statSync(BUILT_CLI).mtimeMs : 0;
  if (builtAt >= newestMtime(path.join(REPO_ROOT, "lib"))) return;
  execFileSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
}

/** A `runtimed mcp` process and an MCP client connected to it over stdio. */
export interface McpProcess {
  client: Client;
  pid: number;
  /** What the server printed on stderr so far (for failure messages). */
  stderr(): string;
  /** Calls a tool; `onprogress` makes the client ask for progress notifications. */
  call(name: string, args?: Record<string, unknown>, options?: { onprogress?: (progress: Progress) => void }): Promise<CallToolResult>;
  /** Closes the client (stdin first, then signals, as the SDK does) and waits for the process to end. */
  close(): Promise<void>;
}

/** Starts `node dist/cli/main.js mcp` against `room`'s daemon, in `cwd`. */
export async function startMcpServer(room: TestRoom, cwd: string): Promise<McpProcess> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith("RUNTIMED_")) env[key] = value;
  env.PYDEVD_DISABLE_FILE_VALIDATION = "1";
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BUILT_CLI, "mcp", "--socket", room.socketPath, "--cache-dir", room.cacheDir],
    env,
    cwd,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "runtimed-spec", version: "1.0.0" });
  await client.connect(transport);
  const pid = transport.pid!;
  const exited = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        clearInterval(poll);
        resolve();
      }
    }, 50);
    poll.unref();
  });
  return {
    client,
    pid,
    stderr: () => stderr,
    async call(name, args = {}, options = {}) {
      // Kernel starts and cells that wait on the test can outlast the SDK's 60 s default.
      return (await client.callTool({ name, arguments: args }, undefined, { timeout: 150_000, onprogress: options.onprogress })) as CallToolResult;
    },
    async close() {
      await client.close();
      await exited;
    },
  };
}

/** The text blocks of a tool result, joined by newlines. */
export function textOf(result: CallToolResult): string {
  return result.content
    .filter((block): block is Extract<CallToolResult["content"][number], { type: "text" }> => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}
