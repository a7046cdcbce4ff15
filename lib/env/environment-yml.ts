import { readFile } from "node:fs/promises";
import { RuntimedError } from "../protocol/errors";

/** What environment detection reads from a conda `environment.yml`. */
export interface EnvironmentYmlInfo {
  /** Conda match specs from `dependencies`, e.g. `python=3.11`, `numpy`. */
  dependencies: string[];
  channels: string[];
  /** Requirements from a nested `- pip:` list under `dependencies`. */
  pipDependencies: string[];
}

/**
 * Reads `channels` and `dependencies` (with its nested `- pip:` list) from an environment.yml.
 * This reads only those two top-level lists, in block (`- item`) or flow (`[a, b]`) style;
 * other keys are ignored. Anything else under those keys raises ENV_FAILED naming the line,
 * rather than building an environment that silently lacks packages.
 */
export async function readEnvironmentYml(path: string): Promise<EnvironmentYmlInfo> {
  return parseEnvironmentYml(await readFile(path, "utf8"), path);
}

/** `readEnvironmentYml` over text already in memory; `path` only names the file in errors. */
export function parseEnvironmentYml(text: string, path: string): EnvironmentYmlInfo {
  const info: EnvironmentYmlInfo = { dependencies: [], channels: [], pipDependencies: [] };
  const fail = (line: number, message: string): never => {
    throw new RuntimedError("ENV_FAILED", `Cannot read ${path}, line ${line}: ${message}`);
  };
  let section: "channels" | "dependencies" | undefined;
  let pipIndent: number | undefined;
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = stripComment(rawLine).trimEnd();
    if (line.trim() === "" || line.trim() === "---") return;
    if (/^\t/.test(line)) fail(lineNumber, "tabs are not allowed for indentation in YAML");
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      pipIndent = undefined;
      const key = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
      if (!key) return fail(lineNumber, `expected a "key:" line, found "${line}"`);
      const [, name, rest] = key;
      section = name === "channels" || name === "dependencies" ? name : undefined;
      if (section && rest !== "") {
        if (!rest.startsWith("[") || !rest.endsWith("]")) fail(lineNumber, `"${name}" must be a list`);
        const items = rest.slice(1, -1).split(",").map((item) => unquote(item.trim())).filter((item) => item !== "");
        info[section].push(...items);
        section = undefined;
      }
      return;
    }
    if (!section) return;
    const item = /^-\s*(.*)$/.exec(line.trimStart());
    if (!item) return fail(lineNumber, `expected a "- item" in the ${section} list, found "${line.trim()}"`);
    const value = item[1];
    if (pipIndent !== undefined && indent > pipIndent) {
      info.pipDependencies.push(unquote(value));
      return;
    }
    pipIndent = undefined;
    if (section === "dependencies" && /^pip\s*:\s*$/.test(value)) {
      pipIndent = indent;
      return;
    }
    if (section === "dependencies" && /^pip\s*:\s*\[.*\]$/.test(value)) {
      const flow = value.slice(value.indexOf("[") + 1, -1);
      info.pipDependencies.push(...flow.split(",").map((dep) => unquote(dep.trim())).filter((dep) => dep !== ""));
      return;
    }
    if (value === "" || /^[\w-]+\s*:/.test(value)) fail(lineNumber, `unsupported ${section} entry "${value}"`);
    info[section].push(unquote(value));
  });
  return info;
}

function stripComment(line: string): string {
  // A YAML comment starts with "#" at the line start or after whitespace (not inside "a#b").
  const match = /(^|\s)#/.exec(line);
  return match ? line.slice(0, match.index) : line;
}

function unquote(value: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(value);
  return quoted ? quoted[2] : value;
}
