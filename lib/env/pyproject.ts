import { readFile } from "node:fs/promises";
import { RuntimedError } from "../protocol/errors";
import { checkPythonVersion, checkRequirements } from "./requirements";
import { isTable, optionalString, parseTomlFile, stringList, tableAt, tomlLocation, type TomlTable } from "./toml-file";

/** What environment detection reads from a `pyproject.toml`. */
export interface PyprojectInfo {
  /**
   * `[project] dependencies`, then the requirements of the dependency groups installed by
   * default (see `groups`), without repeats; `[]` when the file declares none.
   */
  dependencies: string[];
  /** The dependency groups whose requirements are included, as uv would sync them by default. */
  groups: string[];
  /** `[project] requires-python`, when present. */
  python?: string;
  /** True when the file carries a `[tool.pixi...]` table, i.e. it is a pixi manifest. */
  isPixiManifest: boolean;
}

/**
 * Reads `[project] dependencies`, `requires-python` and the default dependency groups from a
 * pyproject.toml (parsed with smol-toml, so dotted keys, inline tables and every string form
 * work).
 *
 * Dependency groups (PEP 735, `[dependency-groups]`, with `{include-group = "..."}` entries)
 * are installed as `uv run` in the project directory would install them, which is what
 * runtimed does for `uv:pyproject`: the groups named by `[tool.uv] default-groups` (a list, or
 * `"all"`), else the `dev` group; uv's legacy `[tool.uv] dev-dependencies` belong to `dev`.
 * Other groups are not installed. Every requirement is checked (see `checkRequirements`);
 * problems raise ENV_FAILED naming the file and the table, or the line of a syntax error.
 */
export async function readPyproject(path: string): Promise<PyprojectInfo> {
  return parsePyproject(await readFile(path, "utf8"), path);
}

/** `readPyproject` over text already in memory; `path` only names the file in errors. */
export function parsePyproject(text: string, path: string): PyprojectInfo {
  const root = parseTomlFile(text, path);
  const project = tableAt(root, ["project"], path);
  const projectDependencies = stringList(project, "dependencies", tomlLocation(path, ["project"], "dependencies"));
  checkRequirements(projectDependencies, "pip", tomlLocation(path, ["project"], "dependencies"));
  const python = optionalString(project, "requires-python", tomlLocation(path, ["project"], "requires-python"));
  if (python !== undefined) checkPythonVersion(python, tomlLocation(path, ["project"], "requires-python"));

  const groups = new DependencyGroups(root, path);
  const installed = groups.defaultGroups();
  const dependencies = [...new Set([...projectDependencies, ...installed.flatMap((name) => groups.requirements(name))])];
  return {
    dependencies,
    groups: installed,
    ...(python !== undefined ? { python } : {}),
    isPixiManifest: isTable(tableAt(root, ["tool"], path)?.pixi),
  };
}

/** PEP 503 normalisation, which PEP 735 uses to compare group names. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The `[dependency-groups]` of one file, with includes resolved. */
class DependencyGroups {
  private readonly groups = new Map<string, { name: string; entries: unknown[] }>();
  private readonly legacyDev: string[];
  private readonly uv: TomlTable | undefined;

  constructor(
    root: TomlTable,
    private readonly path: string,
  ) {
    for (const [name, entries] of Object.entries(tableAt(root, ["dependency-groups"], path) ?? {})) {
      if (!Array.isArray(entries)) throw this.error(`${tomlLocation(path, ["dependency-groups"], name)} must be an array`);
      this.groups.set(normalize(name), { name, entries });
    }
    this.uv = tableAt(root, ["tool", "uv"], path);
    const where = tomlLocation(path, ["tool", "uv"], "dev-dependencies");
    this.legacyDev = stringList(this.uv, "dev-dependencies", where);
    checkRequirements(this.legacyDev, "pip", where);
  }

  /** The groups uv installs when none is asked for: `default-groups`, else `dev` if there is one. */
  defaultGroups(): string[] {
    const declared = this.uv?.["default-groups"];
    const where = tomlLocation(this.path, ["tool", "uv"], "default-groups");
    if (declared === "all") return [...this.groups.values()].map((group) => group.name);
    if (declared === undefined) {
      const dev = this.groups.get("dev");
      return dev || this.legacyDev.length > 0 ? [dev?.name ?? "dev"] : [];
    }
    const names = stringList(this.uv, "default-groups", where);
    for (const name of names) {
      if (!this.groups.has(normalize(name)) && !(normalize(name) === "dev" && this.legacyDev.length > 0)) {
        throw this.error(`${where} names the group "${name}", which [dependency-groups] does not define`);
      }
    }
    return names;
  }

  /** The requirements of group `name`, its includes expanded in place. */
  requirements(name: string, including: string[] = []): string[] {
    const key = normalize(name);
    if (including.includes(key)) throw this.error(`${tomlLocation(this.path, ["dependency-groups"])} includes itself: ${[...including, key].join(" -> ")}`);
    const group = this.groups.get(key);
    const legacy = key === "dev" ? this.legacyDev : [];
    if (!group) {
      if (legacy.length > 0) return legacy;
      throw this.error(`${tomlLocation(this.path, ["dependency-groups"])} has no group "${name}"`);
    }
    const where = tomlLocation(this.path, ["dependency-groups"], group.name);
    const requirements = group.entries.flatMap((entry, index) => {
      if (typeof entry === "string") {
        checkRequirements([entry], "pip", where);
        return [entry];
      }
      const include = isTable(entry) ? entry["include-group"] : undefined;
      if (typeof include !== "string" || Object.keys(entry as object).length !== 1) {
        throw this.error(`${where} item ${index + 1} must be a requirement string or {include-group = "name"}`);
      }
      return this.requirements(include, [...including, key]);
    });
    return [...requirements, ...legacy];
  }

  private error(message: string): RuntimedError {
    return new RuntimedError("ENV_FAILED", message);
  }
}
