import { readFile } from "node:fs/promises";
import { RuntimedError } from "../protocol/errors";
import { readTomlStringArray, readTomlString, readTomlTables, TomlEntry, TomlLiteError } from "./toml-lite";

/** The conda packages and channels a pixi manifest declares. */
export interface PixiInfo {
  /** Conda match specs, e.g. `numpy >=1.26` (a `"*"` version becomes the bare name). */
  dependencies: string[];
  channels: string[];
}

/**
 * Reads `[dependencies]` and the `channels` of `[workspace]`/`[project]` from a pixi.toml, or
 * the same tables under `[tool.pixi.*]` from a pyproject.toml. Unreadable values raise
 * ENV_FAILED naming the file and line.
 */
export async function readPixiManifest(path: string): Promise<PixiInfo> {
  return parsePixiManifest(await readFile(path, "utf8"), path);
}

/** `readPixiManifest` over text already in memory; `path` only names the file in errors. */
export function parsePixiManifest(text: string, path: string): PixiInfo {
  const prefix = path.endsWith("pyproject.toml") ? "tool.pixi." : "";
  try {
    const tables = readTomlTables(text);
    const header = tables.get(`${prefix}workspace`) ?? tables.get(`${prefix}project`) ?? [];
    const channelsEntry = header.find((entry) => entry.key === "channels");
    const dependencies = (tables.get(`${prefix}dependencies`) ?? []).map(condaSpec);
    return { dependencies, channels: channelsEntry ? readTomlStringArray(channelsEntry) : [] };
  } catch (error) {
    if (error instanceof TomlLiteError) {
      throw new RuntimedError("ENV_FAILED", `Cannot read the pixi dependencies in ${path}, ${error.message}`);
    }
    throw error;
  }
}

/** `numpy = ">=1.26"` → `numpy >=1.26`; `numpy = { version = "1.*" }` → `numpy 1.*`. */
function condaSpec(entry: TomlEntry): string {
  const raw = entry.raw.trim();
  let version: string;
  if (raw.startsWith("{")) {
    const match = /\bversion\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')/.exec(raw);
    version = match ? readTomlString({ ...entry, raw: match[1] }) : "*";
  } else {
    version = readTomlString(entry);
  }
  return version === "*" || version === "" ? entry.key : `${entry.key} ${version}`;
}
