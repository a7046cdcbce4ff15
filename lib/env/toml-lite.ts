/**
 * A deliberately small TOML reader: enough to find tables and read the handful of values
 * environment detection needs (strings, arrays of strings, and raw inline tables) from
 * `pyproject.toml` and `pixi.toml`. It is not a TOML parser: values it does not need are
 * skipped (string- and bracket-aware, so their contents are never mistaken for headers), and a
 * value it is asked for but cannot read raises `TomlLiteError` with the line number.
 */

/** A syntax problem in a value we were asked to read; `line` is 1-based. */
export class TomlLiteError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
  }
}

/** One `key = value` of a table: the value's raw text and where it starts. */
export interface TomlEntry {
  readonly key: string;
  readonly raw: string;
  readonly line: number;
}

/** Tables by header name (`""` for the root), each with its entries in file order. */
export type TomlTables = Map<string, TomlEntry[]>;

const headerPattern = /^\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
const keyPattern = /^("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=\s*/;

/** Splits a TOML document into tables and their top-level `key = value` entries. */
export function readTomlTables(text: string): TomlTables {
  const tables: TomlTables = new Map([["", []]]);
  let current = tables.get("")!;
  let pos = 0;
  while (pos < text.length) {
    const lineEnd = indexOrEnd(text, "\n", pos);
    const trimmed = text.slice(pos, lineEnd).trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      pos = lineEnd + 1;
      continue;
    }
    const header = headerPattern.exec(trimmed);
    if (header) {
      const name = header[1].split(".").map((part) => unquoteKey(part.trim())).join(".");
      current = tables.get(name) ?? [];
      tables.set(name, current);
      pos = lineEnd + 1;
      continue;
    }
    const lineStart = pos + (text.slice(pos, lineEnd).length - text.slice(pos, lineEnd).trimStart().length);
    const key = keyPattern.exec(text.slice(lineStart, lineEnd));
    if (!key) {
      // Not something we understand; skip the line rather than guess.
      pos = lineEnd + 1;
      continue;
    }
    const valueStart = lineStart + key[0].length;
    const valueEnd = skipValue(text, valueStart);
    current.push({ key: unquoteKey(key[1]), raw: text.slice(valueStart, valueEnd), line: lineOf(text, lineStart) });
    pos = valueEnd + 1;
  }
  return tables;
}

/** Reads a TOML basic or literal string value (single line). */
export function readTomlString(entry: TomlEntry): string {
  const scanner = new Scanner(entry.raw, entry.line);
  const value = scanner.string();
  scanner.skipTrivia();
  if (!scanner.done()) scanner.fail(`unexpected text after the string value of "${entry.key}"`);
  return value;
}

/** Reads an array whose items are all strings, e.g. `dependencies = ["a", 'b>=1',]`. */
export function readTomlStringArray(entry: TomlEntry): string[] {
  const scanner = new Scanner(entry.raw, entry.line);
  scanner.skipTrivia();
  scanner.expect("[", `"${entry.key}" must be an array of strings`);
  const items: string[] = [];
  for (;;) {
    scanner.skipTrivia();
    if (scanner.peek() === "]") break;
    items.push(scanner.string());
    scanner.skipTrivia();
    if (scanner.peek() === ",") scanner.advance();
    else if (scanner.peek() !== "]") scanner.fail(`expected "," or "]" in the array "${entry.key}"`);
  }
  scanner.advance();
  scanner.skipTrivia();
  if (!scanner.done()) scanner.fail(`unexpected text after the array "${entry.key}"`);
  return items;
}

function unquoteKey(key: string): string {
  if (key.startsWith('"') || key.startsWith("'")) return key.slice(1, -1);
  return key;
}

function indexOrEnd(text: string, needle: string, from: number): number {
  const at = text.indexOf(needle, from);
  return at === -1 ? text.length : at;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Returns the offset of the newline ending a value, following strings and brackets. */
function skipValue(text: string, start: number): number {
  let depth = 0;
  let pos = start;
  while (pos < text.length) {
    const char = text[pos];
    if (char === '"' || char === "'") {
      const triple = text.startsWith(char.repeat(3), pos);
      const close = triple ? char.repeat(3) : char;
      pos += close.length;
      while (pos < text.length && !text.startsWith(close, pos)) {
        if (char === '"' && text[pos] === "\\") pos++;
        else if (!triple && text[pos] === "\n") break;
        pos++;
      }
      pos += close.length;
      continue;
    }
    if (char === "#") {
      pos = indexOrEnd(text, "\n", pos);
      continue;
    }
    if (char === "[" || char === "{") depth++;
    else if (char === "]" || char === "}") depth = Math.max(0, depth - 1);
    else if (char === "\n" && depth === 0) return pos;
    pos++;
  }
  return text.length;
}

/** Character scanner over one raw value, reporting errors with the value's line number. */
class Scanner {
  private pos = 0;

  constructor(private readonly text: string, private readonly firstLine: number) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? "";
  }

  advance(): void {
    this.pos++;
  }

  expect(char: string, message: string): void {
    if (this.peek() !== char) this.fail(message);
    this.pos++;
  }

  fail(message: string): never {
    throw new TomlLiteError(message, this.firstLine + lineOf(this.text, this.pos) - 1);
  }

  /** Skips whitespace, newlines and comments. */
  skipTrivia(): void {
    while (!this.done()) {
      const char = this.peek();
      if (char === "#") this.pos = indexOrEnd(this.text, "\n", this.pos);
      else if (/\s/.test(char)) this.pos++;
      else return;
    }
  }

  string(): string {
    this.skipTrivia();
    const quote = this.peek();
    if (quote !== '"' && quote !== "'") this.fail("expected a quoted string");
    if (this.text.startsWith(quote.repeat(3), this.pos)) this.fail("multi-line strings are not supported here");
    this.pos++;
    let value = "";
    while (!this.done() && this.peek() !== quote) {
      const char = this.peek();
      if (char === "\n") this.fail("unterminated string");
      if (quote === '"' && char === "\\") {
        this.pos++;
        value += this.escape();
        continue;
      }
      value += char;
      this.pos++;
    }
    if (this.done()) this.fail("unterminated string");
    this.pos++;
    return value;
  }

  private escape(): string {
    const char = this.peek();
    this.pos++;
    const simple: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", '"': '"', "\\": "\\" };
    if (char in simple) return simple[char];
    if (char === "u" || char === "U") {
      const length = char === "u" ? 4 : 8;
      const hex = this.text.slice(this.pos, this.pos + length);
      if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== length) this.fail("bad unicode escape");
      this.pos += length;
      return String.fromCodePoint(parseInt(hex, 16));
    }
    return this.fail(`unknown escape "\\${char}"`);
  }
}
