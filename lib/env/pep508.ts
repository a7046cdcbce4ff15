/**
 * A checker for PEP 508 dependency specifiers (`numpy>=1.26`, `pandas[excel]==2.*`,
 * `pkg @ https://host/pkg.whl`, `rich ; python_version < "3.12"`), following the grammar in
 * https://peps.python.org/pep-0508/#grammar. It only says whether a string is one, and why not:
 * pip and uv do the real parsing. What it guarantees is that an accepted string starts with a
 * package name, so an installer can never read it as an option.
 */

const VERSION_OPERATORS = ["===", "<=", "!=", "==", ">=", "~=", "<", ">"] as const;

/** Marker variables of PEP 508, plus `extras` and `dependency_groups` from PEP 751. */
const MARKER_VARIABLES = new Set([
  "python_version",
  "python_full_version",
  "os_name",
  "sys_platform",
  "platform_release",
  "platform_system",
  "platform_version",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "implementation_version",
  "extra",
  "extras",
  "dependency_groups",
]);

class Invalid extends Error {}

/** A cursor over one specifier; every `expect*` throws `Invalid` with what it wanted. */
class Scanner {
  position = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  skipSpace(): boolean {
    const start = this.position;
    while (this.text[this.position] === " " || this.text[this.position] === "\t") this.position += 1;
    return this.position > start;
  }

  peek(literal: string): boolean {
    return this.text.startsWith(literal, this.position);
  }

  take(literal: string): boolean {
    if (!this.peek(literal)) return false;
    this.position += literal.length;
    return true;
  }

  match(pattern: RegExp): string | undefined {
    const sticky = new RegExp(pattern.source, "y");
    sticky.lastIndex = this.position;
    const found = sticky.exec(this.text);
    if (!found) return undefined;
    this.position += found[0].length;
    return found[0];
  }

  fail(wanted: string): never {
    const rest = this.text.slice(this.position);
    throw new Invalid(rest === "" ? `expected ${wanted} at the end` : `expected ${wanted} at "${rest.length > 20 ? rest.slice(0, 20) + "…" : rest}"`);
  }
}

const IDENTIFIER = /[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const VERSION = /[A-Za-z0-9_.*+!-]+/;

/**
 * Why `text` is not a PEP 508 dependency specifier, or `undefined` when it is one.
 *
 * ```ts
 * pep508Problem("numpy>=1.26");          // undefined
 * pep508Problem("--index-url http://x"); // 'expected a package name at "--index-url http://x"'
 * ```
 */
export function pep508Problem(text: string): string | undefined {
  try {
    const scanner = new Scanner(text);
    scanner.skipSpace();
    if (!scanner.match(IDENTIFIER)) scanner.fail("a package name");
    scanner.skipSpace();
    if (scanner.peek("[")) extras(scanner);
    scanner.skipSpace();
    if (scanner.take("@")) {
      scanner.skipSpace();
      const url = scanner.match(/[^\s]+/);
      if (!url || !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(url)) scanner.fail("a URL after @");
      // A URL needs whitespace before its marker, or ";" would be part of it.
      if (!scanner.done && !scanner.skipSpace()) scanner.fail("a space after the URL");
    } else {
      versionSpec(scanner);
    }
    scanner.skipSpace();
    if (scanner.take(";")) marker(scanner);
    scanner.skipSpace();
    if (!scanner.done) scanner.fail(scanner.text.slice(0, scanner.position).includes(";") ? "the end of the marker" : "a version, an @ URL or a ; marker");
    return undefined;
  } catch (error) {
    if (error instanceof Invalid) return error.message;
    throw error;
  }
}

function extras(scanner: Scanner): void {
  scanner.take("[");
  scanner.skipSpace();
  if (scanner.take("]")) return;
  do {
    scanner.skipSpace();
    if (!scanner.match(IDENTIFIER)) scanner.fail("an extra's name");
    scanner.skipSpace();
  } while (scanner.take(","));
  if (!scanner.take("]")) scanner.fail('"]"');
}

function versionSpec(scanner: Scanner): void {
  const parenthesised = scanner.take("(");
  scanner.skipSpace();
  if (!parenthesised && !VERSION_OPERATORS.some((op) => scanner.peek(op))) return;
  do {
    scanner.skipSpace();
    const operator = VERSION_OPERATORS.find((op) => scanner.take(op));
    if (!operator) scanner.fail("a version operator (==, >=, ~=, ...)");
    scanner.skipSpace();
    if (!scanner.match(VERSION)) scanner.fail("a version");
    scanner.skipSpace();
  } while (scanner.take(","));
  if (parenthesised && !scanner.take(")")) scanner.fail('")"');
}

/** marker = marker_and ("or" marker_and)*; marker_and = marker_expr ("and" marker_expr)*. */
function marker(scanner: Scanner): void {
  markerAnd(scanner);
  while (keyword(scanner, "or")) markerAnd(scanner);
}

function markerAnd(scanner: Scanner): void {
  markerExpression(scanner);
  while (keyword(scanner, "and")) markerExpression(scanner);
}

function markerExpression(scanner: Scanner): void {
  scanner.skipSpace();
  if (scanner.take("(")) {
    marker(scanner);
    scanner.skipSpace();
    if (!scanner.take(")")) scanner.fail('")"');
    return;
  }
  markerValue(scanner);
  scanner.skipSpace();
  const operator = VERSION_OPERATORS.find((op) => scanner.take(op));
  if (!operator && !keyword(scanner, "in") && !(keyword(scanner, "not") && keyword(scanner, "in"))) {
    scanner.fail("a marker operator (==, <, in, not in, ...)");
  }
  markerValue(scanner);
}

function markerValue(scanner: Scanner): void {
  scanner.skipSpace();
  if (scanner.match(/"[^"]*"|'[^']*'/)) return;
  const start = scanner.position;
  const name = scanner.match(/[a-z_]+/);
  if (name !== undefined && MARKER_VARIABLES.has(name)) return;
  scanner.position = start;
  scanner.fail("a quoted string or a marker variable such as python_version");
}

/** Takes `word` when it stands alone (followed by a space, a quote or a parenthesis). */
function keyword(scanner: Scanner, word: string): boolean {
  const start = scanner.position;
  scanner.skipSpace();
  if (scanner.match(new RegExp(`${word}(?=[\\s"'(])`))) return true;
  scanner.position = start;
  return false;
}
