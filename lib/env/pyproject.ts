import { readFile } from "node:fs/promises";
import { RuntimedError } from "../protocol/errors";
import { readTomlStringArray, readTomlString, readTomlTables, TomlLiteError } from "./toml-lite";

/** What environment detection reads from a `pyproject.toml`. */
export interface PyprojectInfo {
  /** `[project] dependencies`, or `[]` when the file declares none. */
  dependencies: string[];
  /** `[project] requires-python`, when present. */
  python?: string;
  /** True when the file carries a `[tool.pixi...]` table, i.e. it is a pixi manifest. */
  isPixiManifest: boolean;
}

/**
 * Reads `[project] dependencies` and `requires-python` from a pyproject.toml. A file that
 * cannot be read as such raises ENV_FAILED naming the file and line: building an environment
 * without the dependencies the project declares would be a silent wrong answer.
 */
export async function readPyproject(path: string): Promise<PyprojectInfo> {
  return parsePyproject(await readFile(path, "utf8"), path);
}

/** `readPyproject` over text already in memory; `path` only names the file in errors. */
export function parsePyproject(text: string, path: string): PyprojectInfo {
  try {
    const tables = readTomlTables(text);
    const project = tables.get("project") ?? [];
    const dependencies = project.find((entry) => entry.key === "dependencies");
    const requiresPython = project.find((entry) => entry.key === "requires-python");
    return {
      dependencies: dependencies ? readTomlStringArray(dependencies) : [],
      python: requiresPython ? readTomlString(requiresPython) : undefined,
      isPixiManifest: [...tables.keys()].some((name) => name === "tool.pixi" || name.startsWith("tool.pixi.")),
    };
  } catch (error) {
    if (error instanceof TomlLiteError) {
      throw new RuntimedError("ENV_FAILED", `Cannot read the project dependencies in ${path}, ${error.message}`);
    }
    throw error;
  }
}
