/**
 * JSON as Python's `json` module reads and writes it, which is what nbformat uses: `dumps` with
 * sorted keys (by code point), `indent` and `separators=(",", ": ")`, non-ASCII kept, floats in
 * `repr` form (`1.0`, `1e-05`, `1e+16`). A JS number cannot tell `1.0` from `1`, so the reader
 * records, by JSON pointer, how Python would write every number whose value alone would be
 * written otherwise, and the writer puts those back.
 */
import { RuntimedError } from "../protocol/errors";

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * How Python writes numbers that `formatNumber` would write otherwise (`1.0`, `-0.0`, `1e+16`,
 * ints past 2^53), keyed by JSON pointer (`/cells/0/metadata/scale`).
 */
export type NumberLiterals = ReadonlyMap<string, string>;

/** A parsed JSON text: its value, and how Python writes the numbers its value alone cannot say. */
export interface ParsedJson {
  value: JsonValue;
  numberLiterals: Map<string, string>;
}

const MAX_DEPTH = 1000;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Parses JSON text (also Python's `NaN`, `Infinity`, `-Infinity`); throws BAD_REQUEST on errors. */
export function parseJsonPreservingNumbers(text: string): ParsedJson {
  const numberLiterals = new Map<string, string>();
  let at = 0;

  const fail = (what: string): never => {
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    throw new RuntimedError("BAD_REQUEST", `Not valid JSON: ${what} at line ${line} column ${column}`);
  };
  const skipWhitespace = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const readString = (): string => {
    const start = at;
    let end = text.indexOf('"', at + 1);
    // A quote preceded by an odd run of backslashes is escaped; keep looking.
    while (end >= 0) {
      let backslashes = 0;
      while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    if (end < 0) fail("unterminated string");
    at = end + 1;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      at = start;
      return fail("bad string (a raw control character or a bad escape)");
    }
  };
  const readValue = (pointer: string, depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    skipWhitespace();
    const char = text[at];
    if (char === '"') return readString();
    if (char === "{") {
      at++;
      const object: JsonObject = {};
      skipWhitespace();
      if (text[at] === "}") {
        at++;
        return object;
      }
      for (;;) {
        skipWhitespace();
        if (text[at] !== '"') fail("expected a key string");
        const key = readString();
        skipWhitespace();
        if (text[at] !== ":") fail("expected ':'");
        at++;
        setKey(object, key, readValue(`${pointer}/${escapePointer(key)}`, depth + 1));
        skipWhitespace();
        if (text[at] === ",") at++;
        else if (text[at] === "}") return at++, object;
        else fail("expected ',' or '}'");
      }
    }
    if (char === "[") {
      at++;
      const array: JsonValue[] = [];
      skipWhitespace();
      if (text[at] === "]") {
        at++;
        return array;
      }
      for (;;) {
        array.push(readValue(`${pointer}/${array.length}`, depth + 1));
        skipWhitespace();
        if (text[at] === ",") at++;
        else if (text[at] === "]") return at++, array;
        else fail("expected ',' or ']'");
      }
    }
    for (const [word, value] of KEYWORDS) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = at;
    const literal = NUMBER.exec(text)?.[0];
    if (literal === undefined) return fail("unexpected character");
    at += literal.length;
    const value = Number(literal);
    const written = pythonRendering(literal, value);
    if (written !== formatNumber(value)) numberLiterals.set(pointer, written);
    return value;
  };

  const value = readValue("", 0);
  skipWhitespace();
  if (at < text.length) fail("extra text after the JSON value");
  return { value, numberLiterals };
}

// `-Infinity` must be tried before numbers, which would read its `-` and fail.
const KEYWORDS: ReadonlyArray<[string, JsonValue]> = [
  ["true", true],
  ["false", false],
  ["null", null],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
];

/**
 * What Python's `json.dumps(json.loads(literal))` writes: a literal with a point or an exponent
 * is a float (`1.0`, `1e-05`; `1e400` overflows to `Infinity`), any other an exact int.
 */
function pythonRendering(literal: string, value: number): string {
  if (!/[.eE]/.test(literal)) return BigInt(literal).toString();
  return Number.isFinite(value) ? pythonFloatRepr(value) : formatNumber(value);
}

/** Options of {@link dumpJsonLikePython}. */
export interface DumpOptions {
  /** Spaces per level (nbformat: 1); without it, compact output with no spaces at all. */
  indent?: number;
  /** Literals to write instead of the formatted value, where the value still equals them. */
  numberLiterals?: NumberLiterals;
}

/**
 * Writes `value` the way Python's `json.dumps(value, sort_keys=True, ensure_ascii=False,
 * indent=…, separators=(",", ": "))` does (compact `(",", ":")` without an indent).
 */
export function dumpJsonLikePython(value: JsonValue, options: DumpOptions = {}): string {
  const parts: string[] = [];
  const literals = options.numberLiterals;
  const unit = options.indent === undefined ? undefined : " ".repeat(options.indent);
  const keySeparator = unit === undefined ? ":" : ": ";

  const write = (item: JsonValue, pointer: string, level: number): void => {
    // `undefined` (only in values built in code) is written as JSON.stringify does: null in a list.
    if (item === null || item === undefined) parts.push("null");
    else if (typeof item === "boolean") parts.push(item ? "true" : "false");
    else if (typeof item === "string") parts.push(JSON.stringify(item));
    else if (typeof item === "number") {
      const literal = literals?.get(pointer);
      // `===` on purpose: JSON.stringify writes -0 as 0, which must not lose a file's `-0.0`.
      parts.push(literal !== undefined && Number(literal) === item ? literal : formatNumber(item));
    } else if (Array.isArray(item)) {
      if (item.length === 0) return void parts.push("[]");
      const [open, between, close] = brackets(unit, level);
      parts.push("[", open);
      item.forEach((element, index) => {
        if (index > 0) parts.push(",", between);
        write(element, `${pointer}/${index}`, level + 1);
      });
      parts.push(close, "]");
    } else {
      const keys = Object.keys(item)
        .filter((key) => item[key] !== undefined)
        .sort(compareCodePoints);
      if (keys.length === 0) return void parts.push("{}");
      const [open, between, close] = brackets(unit, level);
      parts.push("{", open);
      keys.forEach((key, index) => {
        if (index > 0) parts.push(",", between);
        parts.push(JSON.stringify(key), keySeparator);
        write(item[key]!, `${pointer}/${escapePointer(key)}`, level + 1);
      });
      parts.push(close, "}");
    }
  };
  write(value, "", 0);
  return parts.join("");
}

function brackets(unit: string | undefined, level: number): [string, string, string] {
  if (unit === undefined) return ["", "", ""];
  const inner = "\n" + unit.repeat(level + 1);
  return [inner, inner, "\n" + unit.repeat(level)];
}

/**
 * A number as Python's json writes it, taking an integral value for an int (a JS number cannot
 * say otherwise): `3`, `0.5`, `1e-05`, `NaN`. Non-integral values use Python's float `repr`.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(value)) return BigInt(value).toString();
  return pythonFloatRepr(value);
}

/**
 * Python's `repr(float)`: the shortest digits that read back as the same double (JS finds the
 * same digits), positional when the decimal exponent is in [-4, 16), else `d.ddde±XX`.
 */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const magnitude = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? "-" : "+"}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1) || "0";
  return `${sign}${whole}.${fraction}`;
}

/** Orders strings by code point, as Python's `sorted` does (JS's default sort is by UTF-16 unit). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.codePointAt(i)! - b.codePointAt(i)!;
  }
  return a.length - b.length;
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function escapePointer(segment: string): string {
  return segment.includes("~") || segment.includes("/") ? segment.replace(/~/g, "~0").replace(/\//g, "~1") : segment;
}

function setKey(object: JsonObject, key: string, value: JsonValue): void {
  // An own `__proto__` key must stay data, never become the object's prototype.
  if (key === "__proto__") Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
