import { parse, TomlError } from "smol-toml";
import { RuntimedError } from "../protocol/errors";

/** A TOML table as smol-toml returns it. */
export type TomlTable = Record<string, unknown>;

/**
 * Parses a project file's TOML with smol-toml. A syntax error becomes ENV_FAILED naming the
 * file, line and column: building an environment without the packages a broken file declares
 * would be a silent wrong answer.
 */
export function parseTomlFile(text: string, path: string): TomlTable {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
    throw new RuntimedError("ENV_FAILED", `Cannot read ${path}, line ${error.line}, column ${error.column}: ${reason}`, { cause: error });
  }
}

/** Where a value sits, for messages: `/repo/pyproject.toml [project] dependencies`. */
export function tomlLocation(path: string, table: readonly string[], key?: string): string {
  const header = table.length > 0 ? ` [${table.join(".")}]` : "";
  return `${path}${header}${key === undefined ? "" : ` ${key}`}`;
}

/** True for a TOML table (not an array, not a date). */
export function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * The table at `keys` under `root` (`["tool", "pixi"]`), `undefined` when absent; ENV_FAILED
 * when something else stands there.
 */
export function tableAt(root: TomlTable, keys: readonly string[], path: string): TomlTable | undefined {
  let value: unknown = root;
  for (const key of keys) {
    if (!isTable(value)) return undefined;
    value = value[key];
  }
  if (value === undefined) return undefined;
  if (!isTable(value)) throw new RuntimedError("ENV_FAILED", `${tomlLocation(path, keys)} must be a table`);
  return value;
}

/** `table[key]` as a list of strings (`[]` when absent); ENV_FAILED naming `where` otherwise. */
export function stringList(table: TomlTable | undefined, key: string, where: string): string[] {
  const value = table?.[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RuntimedError("ENV_FAILED", `${where} must be an array of strings`);
  return value.map((item, index) => {
    if (typeof item !== "string") {
      throw new RuntimedError("ENV_FAILED", `${where} must be an array of strings; item ${index + 1} is ${JSON.stringify(item)}`);
    }
    return item;
  });
}

/** `table[key]` as a string, if present; ENV_FAILED naming `where` when it is something else. */
export function optionalString(table: TomlTable | undefined, key: string, where: string): string | undefined {
  const value = table?.[key];
  if (value === undefined || typeof value === "string") return value;
  throw new RuntimedError("ENV_FAILED", `${where} must be a string, not ${JSON.stringify(value)}`);
}
