/**
 * A notebook's inline dependencies, found where the daemon's environment detection looks for
 * them and in the same order: the room metadata keys `uv` and `conda`, then the nbformat
 * metadata (key `notebook_metadata`) at `runt.uv`, `runt.conda`, `uv`, `conda`; the first with
 * dependencies wins. Edits go back where the list was found; a notebook without one gets
 * `runt.uv` in its nbformat metadata, as runtimed writes it, so a saved .ipynb keeps it.
 */
import { RuntimedError } from "../index";

/** The package managers whose inline declarations environment detection reads. */
export type PackageManager = "uv" | "conda";

/** The room metadata this module reads (string values, JSON by convention). */
export type DependencyMetadata = Partial<Record<"uv" | "conda" | "notebook_metadata", string>>;

/** A dependency list and where it lives. */
export interface DependencyDeclaration {
  manager: PackageManager;
  dependencies: string[];
  /** A room metadata key, and for `notebook_metadata` the path of the declaration inside it. */
  key: keyof DependencyMetadata;
  path: string[];
  /** Where, for people: `uv`, `notebook_metadata.runt.uv`, ... */
  source: string;
}

const MANAGERS: readonly PackageManager[] = ["uv", "conda"];

/** The notebook's effective dependency declaration; an empty `runt.uv` one when it has none. */
export function findDependencies(metadata: DependencyMetadata): DependencyDeclaration {
  const candidates: DependencyDeclaration[] = [];
  for (const manager of MANAGERS) {
    const text = metadata[manager];
    if (text !== undefined) candidates.push(declaration(manager, manager, [], parseObject(text, manager)));
  }
  if (metadata.notebook_metadata !== undefined) {
    const notebook = parseObject(metadata.notebook_metadata, "notebook_metadata");
    for (const path of [["runt", "uv"], ["runt", "conda"], ["uv"], ["conda"]]) {
      const value = at(notebook, path);
      if (value !== undefined) candidates.push(declaration(path[path.length - 1] as PackageManager, "notebook_metadata", path, value));
    }
  }
  return candidates.find((candidate) => candidate.dependencies.length > 0) ?? candidates.find((candidate) => candidate.key !== "notebook_metadata") ?? declaration("uv", "notebook_metadata", ["runt", "uv"], {});
}

/** The metadata write that sets `declaration`'s list to `dependencies`, keeping its other fields. */
export function writeDependencies(metadata: DependencyMetadata, declaration: DependencyDeclaration, dependencies: string[]): { key: string; value: string } {
  const text = metadata[declaration.key];
  const root = text === undefined ? {} : parseObject(text, declaration.key);
  let target = root;
  for (const step of declaration.path) {
    const next = target[step];
    if (typeof next !== "object" || next === null || Array.isArray(next)) target[step] = {};
    target = target[step] as Record<string, unknown>;
  }
  target.dependencies = dependencies;
  return { key: declaration.key, value: JSON.stringify(root) };
}

/** A package's normalized name (PEP 503; a conda `channel::` prefix dropped), to match `pandas` with `Pandas>=2`. */
export function packageName(spec: string): string {
  const withoutChannel = spec.includes("::") ? spec.slice(spec.lastIndexOf("::") + 2) : spec;
  const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(withoutChannel)?.[1] ?? withoutChannel.trim();
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Checks package specs an agent gave: one per entry, none empty or spanning lines. */
export function checkPackages(specs: readonly string[]): string[] {
  const trimmed = specs.map((spec) => spec.trim());
  if (trimmed.length === 0 || trimmed.some((spec) => spec === "" || /[\r\n]/.test(spec))) {
    throw new RuntimedError("BAD_REQUEST", `Give each package as one requirement, e.g. "pandas>=2.0"; got ${JSON.stringify(specs)}`);
  }
  return trimmed;
}

/** Adds `specs` to `dependencies`; a spec for a package already listed replaces its entry. */
export function addPackages(dependencies: readonly string[], specs: readonly string[]): string[] {
  const result = [...dependencies];
  for (const spec of specs) {
    const index = result.findIndex((existing) => packageName(existing) === packageName(spec));
    if (index >= 0) result[index] = spec;
    else result.push(spec);
  }
  return result;
}

/** Removes every entry naming one of `specs`' packages; says which specs matched nothing. */
export function removePackages(dependencies: readonly string[], specs: readonly string[]): { dependencies: string[]; notFound: string[] } {
  const names = new Set(specs.map(packageName));
  const remaining = dependencies.filter((existing) => !names.has(packageName(existing)));
  const notFound = specs.filter((spec) => !dependencies.some((existing) => packageName(existing) === packageName(spec)));
  return { dependencies: remaining, notFound };
}

function declaration(manager: PackageManager, key: DependencyDeclaration["key"], path: string[], value: unknown): DependencyDeclaration {
  const source = [key, ...path].join(".");
  const list = (value as { dependencies?: unknown } | null)?.dependencies;
  if (typeof value !== "object" || value === null || Array.isArray(value) || (list !== undefined && (!Array.isArray(list) || !list.every((item) => typeof item === "string")))) {
    throw new RuntimedError("BAD_REQUEST", `Notebook metadata "${source}" must be an object like {"dependencies": ["numpy"]}; fix it before changing dependencies here`);
  }
  return { manager, dependencies: (list as string[] | undefined) ?? [], key, path, source };
}

function parseObject(text: string, key: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RuntimedError("BAD_REQUEST", `Notebook metadata "${key}" is not valid JSON; fix it before changing dependencies here`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RuntimedError("BAD_REQUEST", `Notebook metadata "${key}" must be a JSON object`);
  return value as Record<string, unknown>;
}

function at(value: Record<string, unknown>, path: string[]): unknown {
  let current: unknown = value;
  for (const step of path) current = typeof current === "object" && current !== null ? (current as Record<string, unknown>)[step] : undefined;
  return current;
}
