import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { RuntimedError } from "../protocol/errors";
import { checkChannels, checkRequirements } from "./requirements";

/** What environment detection reads from a conda `environment.yml`. */
export interface EnvironmentYmlInfo {
  /** Conda match specs from `dependencies`, e.g. `python=3.11`, `numpy`. */
  dependencies: string[];
  channels: string[];
  /** Requirements from a nested `- pip:` list under `dependencies`. */
  pipDependencies: string[];
}

/**
 * Reads `channels` and `dependencies` (with its nested `- pip:` list) from an environment.yml,
 * parsed with the `yaml` library: block or flow style, lists at any indentation (column 0
 * included), comments and quoted strings all read as YAML means them. Other keys (`name`,
 * `prefix`, `variables`) are ignored. A syntax error, or an entry that is not a package, raises
 * ENV_FAILED naming the file and line, rather than building an environment that silently lacks
 * packages; so does a pip entry that is an option (`--index-url …`, `-r file`).
 */
export async function readEnvironmentYml(path: string): Promise<EnvironmentYmlInfo> {
  return parseEnvironmentYml(await readFile(path, "utf8"), path);
}

/** `readEnvironmentYml` over text already in memory; `path` only names the file in errors. */
export function parseEnvironmentYml(text: string, path: string): EnvironmentYmlInfo {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const fail = (offset: number | undefined, message: string): never => {
    const line = offset === undefined ? "" : `, line ${lineCounter.linePos(offset).line}`;
    throw new RuntimedError("ENV_FAILED", `Cannot read ${path}${line}: ${message}`);
  };
  const syntaxError = document.errors[0];
  if (syntaxError) fail(syntaxError.pos[0], syntaxError.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""));

  const info: EnvironmentYmlInfo = { dependencies: [], channels: [], pipDependencies: [] };
  const root = document.contents;
  if (root === null || (isScalar(root) && root.value === null)) return info;
  if (!isMap(root)) return fail(root.range?.[0], "expected keys such as channels: and dependencies: at the top level");

  /** The items of a list under `key` (absent or empty: none). */
  const listAt = (node: unknown, key: string): Node[] => {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) return fail((node as Node).range?.[0], `"${key}" must be a list`);
    return node.items as Node[];
  };
  /** One list item that must be a string: its text and line, for messages. */
  const stringItem = (item: Node, key: string): { value: string; where: string } => {
    const where = `${path}, line ${lineCounter.linePos(item.range?.[0] ?? 0).line}, ${key}`;
    if (!isScalar(item) || typeof item.value !== "string") {
      return fail(item.range?.[0], `expected a package name in ${key}, found ${JSON.stringify(item.toJSON())}`);
    }
    return { value: item.value, where };
  };

  for (const item of listAt(root.get("channels", true), "channels")) {
    const { value, where } = stringItem(item, "channels");
    checkChannels([value], where);
    info.channels.push(value);
  }
  for (const item of listAt(root.get("dependencies", true), "dependencies")) {
    if (isMap(item)) {
      // The one mapping conda allows here: `- pip: [requirements]`.
      const keys = item.items.map((pair) => (isScalar(pair.key) ? pair.key.value : pair.key));
      if (keys.length !== 1 || keys[0] !== "pip") {
        fail(item.range?.[0], `expected a package or "pip:" in dependencies, found ${JSON.stringify(item.toJSON())}`);
      }
      for (const pipItem of listAt(item.get("pip", true), "pip")) {
        const { value, where } = stringItem(pipItem, "pip");
        checkRequirements([value], "pip", where);
        info.pipDependencies.push(value);
      }
      continue;
    }
    const { value, where } = stringItem(item, "dependencies");
    checkRequirements([value], "conda", where);
    info.dependencies.push(value);
  }
  return info;
}
