import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { RuntimedError } from "../protocol/errors";
import { checkChannels, checkRequirements } from "./requirements";
import { isTable, parseTomlFile, stringList, tableAt, tomlLocation, type TomlTable } from "./toml-file";

/** The conda packages, PyPI packages and channels a pixi manifest declares. */
export interface PixiInfo {
  /** Conda match specs, e.g. `numpy >=1.26` (a `"*"` version becomes the bare name). */
  dependencies: string[];
  channels: string[];
  /** PEP 508 requirements from `[pypi-dependencies]`, installed with pip after conda's. */
  pipDependencies: string[];
}

/**
 * Reads `[dependencies]`, `[pypi-dependencies]` and the `channels` of `[workspace]` (or the older
 * `[project]`) from a pixi.toml, or the same tables under `[tool.pixi]` from a pyproject.toml.
 * Only the default feature is read: `[feature.*]` and `[target.*]` tables are not. Syntax
 * errors raise ENV_FAILED naming the file and line; values that are not packages name the table.
 */
export async function readPixiManifest(path: string): Promise<PixiInfo> {
  return parsePixiManifest(await readFile(path, "utf8"), path);
}

/** `readPixiManifest` over text already in memory; `path` names the file and anchors path deps. */
export function parsePixiManifest(text: string, path: string): PixiInfo {
  const root = parseTomlFile(text, path);
  const prefix = path.endsWith("pyproject.toml") ? ["tool", "pixi"] : [];
  const at = (name: string) => [...prefix, name];
  const workspaceKey = tableAt(root, at("workspace"), path) ? "workspace" : "project";
  const channelsWhere = tomlLocation(path, at(workspaceKey), "channels");
  // A channel may also be written as a table {channel = "name", priority = 1}.
  const rawChannels = tableAt(root, at(workspaceKey), path)?.channels;
  const channels = Array.isArray(rawChannels)
    ? rawChannels.map((entry: unknown) => (isTable(entry) && typeof entry.channel === "string" ? entry.channel : entry))
    : rawChannels;
  const channelList = stringList({ channels }, "channels", channelsWhere);
  checkChannels(channelList, channelsWhere);

  const dependencies = entries(root, at("dependencies"), path).map(([name, value]) => condaSpec(name, value, tomlLocation(path, at("dependencies"), name)));
  checkRequirements(dependencies, "conda", tomlLocation(path, at("dependencies")));
  const pipDependencies = entries(root, at("pypi-dependencies"), path).map(([name, value]) =>
    pypiRequirement(name, value, tomlLocation(path, at("pypi-dependencies"), name), dirname(resolve(path))),
  );
  checkRequirements(pipDependencies, "pip", tomlLocation(path, at("pypi-dependencies")));
  return { dependencies, channels: channelList, pipDependencies };
}

function entries(root: TomlTable, keys: string[], path: string): [string, unknown][] {
  return Object.entries(tableAt(root, keys, path) ?? {});
}

/** `numpy = ">=1.26"` → `numpy >=1.26`; `numpy = { version = "1.*", channel = "conda-forge" }` → `conda-forge::numpy 1.*`. */
function condaSpec(name: string, value: unknown, where: string): string {
  if (typeof value === "string") return withVersion(name, value);
  if (!isTable(value)) throw new RuntimedError("ENV_FAILED", `${where} must be a version string or a table`);
  const version = field(value, "version", where) ?? "*";
  const build = field(value, "build", where);
  const channel = field(value, "channel", where);
  const spec = withVersion(name, version) + (build !== undefined ? `${version === "*" ? " *" : ""} ${build}` : "");
  return channel !== undefined ? `${channel}::${spec}` : spec;
}

/**
 * `requests = ">=2"` → `requests>=2`; `{ version, extras }`, `{ url }`, `{ git, rev | tag | branch }`
 * and `{ path }` (relative to the manifest) become PEP 508 requirements.
 */
function pypiRequirement(name: string, value: unknown, where: string, manifestDir: string): string {
  if (typeof value === "string") return value === "*" || value === "" ? name : `${name}${value}`;
  if (!isTable(value)) throw new RuntimedError("ENV_FAILED", `${where} must be a version string or a table`);
  const extras = value.extras === undefined ? [] : stringList(value, "extras", `${where} extras`);
  const named = extras.length > 0 ? `${name}[${extras.join(",")}]` : name;
  const url = field(value, "url", where);
  const git = field(value, "git", where);
  const localPath = field(value, "path", where);
  if (url !== undefined) return `${named} @ ${url}`;
  if (git !== undefined) {
    const ref = field(value, "rev", where) ?? field(value, "tag", where) ?? field(value, "branch", where);
    return `${named} @ git+${git}${ref !== undefined ? `@${ref}` : ""}`;
  }
  if (localPath !== undefined) return `${named} @ ${pathToFileURL(resolve(manifestDir, localPath)).href}`;
  const version = field(value, "version", where) ?? "*";
  return version === "*" ? named : `${named}${version}`;
}

function withVersion(name: string, version: string): string {
  return version === "*" || version === "" ? name : `${name} ${version}`;
}

function field(table: TomlTable, key: string, where: string): string | undefined {
  const value = table[key];
  if (value === undefined || typeof value === "string") return value;
  throw new RuntimedError("ENV_FAILED", `${where} ${key} must be a string`);
}
