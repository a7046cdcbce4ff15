/**
 * Tools as plain definitions (name, zod input shape, handler) registered on the SDK's
 * `McpServer`. Every handler runs behind one guard: whatever it throws becomes a tool error
 * (`isError: true`) with a message an agent can act on, never a protocol error.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { RuntimedError } from "../index";
import type { ExecutionStore } from "./execution-store";
import type { OpenNotebooks } from "./notebook-state";

/** What every tool works with: the notebooks this server joined and the executions it ran. */
export interface ToolContext {
  notebooks: OpenNotebooks;
  executions: ExecutionStore;
}

/** What a handler gets besides its arguments. */
export interface ToolCall {
  /** Aborted when the client cancels the call. */
  signal: AbortSignal;
  /** Sends an MCP progress notification, when the client asked for progress (a progressToken). */
  progress(message: string): void;
}

/** One tool: what the client sees in `tools/list`, and what runs on `tools/call`. */
export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: z.ZodRawShape;
  annotations?: ToolAnnotations;
  run(args: Record<string, unknown>, call: ToolCall): Promise<CallToolResult>;
}

/** Defines a tool whose handler gets its arguments typed (and validated by the SDK) from `inputSchema`. */
export function defineTool<Shape extends z.ZodRawShape>(
  tool: Omit<ToolDefinition, "inputSchema" | "run"> & {
    inputSchema: Shape;
    run(args: z.output<z.ZodObject<Shape>>, call: ToolCall): Promise<CallToolResult>;
  },
): ToolDefinition {
  // The SDK parses the arguments with this very shape before the handler runs.
  return tool as unknown as ToolDefinition;
}

/** A successful result: text for the model, and optionally the same facts as structured JSON. */
export function textResult(text: string, structuredContent?: Record<string, unknown>): CallToolResult {
  return structuredContent ? { content: [{ type: "text", text }], structuredContent } : { content: [{ type: "text", text }] };
}

/** A tool error: `isError: true` and the message (with the error's code in `structuredContent`). */
export function toolError(error: unknown, toolName: string): CallToolResult {
  const runtimedError = error instanceof RuntimedError ? error : undefined;
  const message = runtimedError ? runtimedError.message : `${toolName} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
  const code = runtimedError?.code ?? "INTERNAL";
  return { content: [{ type: "text", text: message }], structuredContent: { error: { code, message } }, isError: true };
}

/** Registers `tools` on `server`. */
export function registerTools(server: McpServer, tools: readonly ToolDefinition[]): void {
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, annotations: tool.annotations },
      async (args: Record<string, unknown>, extra) => {
        const progressToken = extra._meta?.progressToken;
        let progress = 0;
        const call: ToolCall = {
          signal: extra.signal,
          progress(message) {
            if (progressToken === undefined) return;
            progress += 1;
            // Sent in order on the same stdout as the result, so none arrives after it.
            extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress, message } }).catch(() => undefined);
          },
        };
        try {
          return await tool.run(args, call);
        } catch (error) {
          return toolError(error, tool.name);
        }
      },
    );
  }
}
