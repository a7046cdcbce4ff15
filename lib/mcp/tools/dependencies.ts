/** Dependency tools: get_dependencies, add_dependency, remove_dependency (the inline metadata environment detection reads). */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { RuntimedError, type Session } from "../../index";
import { addPackages, checkPackages, findDependencies, removePackages, writeDependencies, type DependencyMetadata } from "../inline-dependencies";
import { restartKernel } from "../notebook-kernel";
import { NOTEBOOK_METADATA_KEY } from "../notebook-metadata";
import { defineTool, textResult, type ToolCall, type ToolContext, type ToolDefinition } from "../tool-registry";

const packageArgument = z.union([z.string(), z.array(z.string())]).describe('A requirement like "pandas>=2.0", or a list of them.');
const afterArgument = z
  .enum(["none", "restart"])
  .optional()
  .describe('"none" (default): only record it; "restart": restart the kernel now so its environment has the new set.');

function dependencyMetadata(session: Session): DependencyMetadata {
  return { uv: session.getMetadata("uv"), conda: session.getMetadata("conda"), notebook_metadata: session.getMetadata(NOTEBOOK_METADATA_KEY) };
}

/** The notebook's dependency facts, in snake_case. */
function dependencyState(session: Session): Record<string, unknown> {
  const declaration = findDependencies(dependencyMetadata(session));
  return { dependencies: declaration.dependencies, package_manager: declaration.manager, metadata_key: declaration.source, env_source: session.envSource };
}

/** Writes a new list where the notebook's list lives, then restarts the kernel when asked. */
async function changeDependencies(
  session: Session,
  change: (dependencies: string[]) => string[],
  after: "none" | "restart" | undefined,
  call: ToolCall,
  done: string,
): Promise<CallToolResult> {
  const metadata = dependencyMetadata(session);
  const declaration = findDependencies(metadata);
  const write = writeDependencies(metadata, declaration, change(declaration.dependencies));
  session.setMetadata(write.key, write.value);
  await session.flush();
  if (after === "restart") {
    await restartKernel(session, call.progress);
    return textResult(`${done} Restarted the kernel: ${session.kernelType ?? "unknown"} in ${session.envSource ?? "unknown"}.`, { ...dependencyState(session), restarted: true });
  }
  return textResult(`${done} They take effect when the kernel starts again: call restart_kernel (or pass after: "restart").`, { ...dependencyState(session), restarted: false });
}

/** The dependency tools, over `context`. */
export function dependencyTools(context: ToolContext): ToolDefinition[] {
  return [
    defineTool({
      name: "get_dependencies",
      title: "Get dependencies",
      description: "The open notebook's inline dependencies (the packages its kernel environment is built with), their package manager, and the environment the kernel runs in.",
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
      async run() {
        const session = await context.notebooks.require();
        const state = dependencyState(session);
        const list = state.dependencies as string[];
        const text = `${list.length ? `Dependencies (${state.package_manager}): ${list.join(", ")}` : "No inline dependencies."} Kernel environment: ${state.env_source ?? "no kernel running"}.`;
        return textResult(text, state);
      },
    }),

    defineTool({
      name: "add_dependency",
      title: "Add a dependency",
      description: "Add a package to the open notebook's inline dependencies (a spec for a package already listed replaces it). It is installed when the kernel restarts: restart_kernel, or after: \"restart\".",
      inputSchema: { package: packageArgument, after: afterArgument },
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run(args, call) {
        const specs = checkPackages(typeof args.package === "string" ? [args.package] : args.package);
        const session = await context.notebooks.require();
        return changeDependencies(session, (dependencies) => addPackages(dependencies, specs), args.after, call, `Added ${specs.join(", ")}.`);
      },
    }),

    defineTool({
      name: "remove_dependency",
      title: "Remove a dependency",
      description: "Remove a package (by name, any version spec) from the open notebook's inline dependencies. It leaves the environment when the kernel restarts.",
      inputSchema: { package: packageArgument, after: afterArgument },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
      async run(args, call) {
        const specs = checkPackages(typeof args.package === "string" ? [args.package] : args.package);
        const session = await context.notebooks.require();
        const current = findDependencies(dependencyMetadata(session)).dependencies;
        const { notFound } = removePackages(current, specs);
        if (notFound.length === specs.length) {
          throw new RuntimedError("BAD_REQUEST", `${notFound.join(", ")} ${notFound.length === 1 ? "is" : "are"} not among the notebook's dependencies (${current.join(", ") || "none"}); get_dependencies lists them.`);
        }
        const removed = specs.filter((spec) => !notFound.includes(spec));
        const skipped = notFound.length ? ` (${notFound.join(", ")} ${notFound.length === 1 ? "was" : "were"} not listed)` : "";
        return changeDependencies(session, (dependencies) => removePackages(dependencies, specs).dependencies, args.after, call, `Removed ${removed.join(", ")}${skipped}.`);
      },
    }),
  ];
}
