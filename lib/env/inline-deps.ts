import { RuntimedError } from "../protocol/errors";
import { checkChannels, checkPythonVersion, checkRequirements } from "./requirements";

/** Dependencies declared inside the notebook's own metadata. */
export interface InlineDeps {
  manager: "uv" | "conda";
  dependencies: string[];
  channels?: string[];
  python?: string;
  /** Where they were found, e.g. `notebook_metadata.runt.uv`, for messages. */
  source: string;
}

/**
 * Finds inline dependencies in a room's metadata (string values, JSON by convention). Looks,
 * in order, at the keys `uv` and `conda`, then inside the nbformat metadata stored under
 * `notebook_metadata` at `.runt.uv`, `.runt.conda`, `.uv`, `.conda`; the first with a non-empty
 * `dependencies` list wins. A declaration without dependencies is not one and is passed over;
 * malformed JSON, a mistyped field, or a dependency that is not a requirement specifier (PEP 508
 * for uv, a conda match spec for conda; see `checkRequirements`) raises ENV_FAILED naming the key.
 */
export function findInlineDeps(metadata: Record<string, string>, prefer?: "uv" | "conda"): InlineDeps | undefined {
  const candidates: Array<{ manager: "uv" | "conda"; source: string; value: unknown }> = [];
  for (const manager of ["uv", "conda"] as const) {
    if (metadata[manager] !== undefined) {
      candidates.push({ manager, source: manager, value: parseJson(metadata[manager], manager) });
    }
  }
  if (metadata.notebook_metadata !== undefined) {
    const notebook = parseJson(metadata.notebook_metadata, "notebook_metadata");
    const runt = field(notebook, "runt");
    for (const manager of ["uv", "conda"] as const) {
      candidates.push({ manager, source: `notebook_metadata.runt.${manager}`, value: field(runt, manager) });
    }
    for (const manager of ["uv", "conda"] as const) {
      candidates.push({ manager, source: `notebook_metadata.${manager}`, value: field(notebook, manager) });
    }
  }
  const found = candidates
    .filter((candidate) => candidate.value !== undefined)
    .map((candidate) => toInlineDeps(candidate.manager, candidate.source, candidate.value))
    .filter((deps): deps is InlineDeps => deps !== undefined);
  return found.find((deps) => deps.manager === prefer) ?? found[0];
}

function toInlineDeps(manager: "uv" | "conda", source: string, value: unknown): InlineDeps | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(source, "an object like {\"dependencies\": [\"numpy\"]}");
  }
  const record = value as Record<string, unknown>;
  const dependencies = stringList(record.dependencies, `${source}.dependencies`);
  if (!dependencies || dependencies.length === 0) return undefined;
  checkRequirements(dependencies, manager === "uv" ? "pip" : "conda", `notebook metadata "${source}.dependencies"`);
  const deps: InlineDeps = { manager, dependencies, source };
  const channels = stringList(record.channels, `${source}.channels`);
  if (channels) {
    checkChannels(channels, `notebook metadata "${source}.channels"`);
    deps.channels = channels;
  }
  const pythonKey = manager === "uv" ? "requires-python" : "python";
  const python = record[pythonKey];
  if (python !== undefined) {
    if (typeof python !== "string") throw malformed(`${source}.${pythonKey}`, "a string");
    checkPythonVersion(python, `notebook metadata "${source}.${pythonKey}"`);
    deps.python = python;
  }
  return deps;
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw malformed(where, "a list of strings");
  }
  return value.map((item: string) => item.trim()).filter((item) => item !== "");
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RuntimedError(
      "ENV_FAILED",
      `Notebook metadata "${key}" is not valid JSON (${(error as Error).message}); fix or remove it to start a kernel`,
    );
  }
}

function malformed(where: string, expected: string): RuntimedError {
  return new RuntimedError("ENV_FAILED", `Notebook metadata "${where}" must be ${expected}`);
}
