/**
 * Command-line parsing for `runtimed`: global options anywhere on the line, then each command's
 * own options through Node's `util.parseArgs` (no dependency), with errors a person can act on.
 */
import { parseArgs } from "node:util";

/** A mistake on the command line: printed with a pointer to the help, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";

  constructor(
    message: string,
    /** The help command that explains the right usage, e.g. `runtimed daemon --help`. */
    readonly helpCommand = "runtimed --help",
  ) {
    super(message);
  }
}

/** Options every command accepts. */
export interface GlobalOptions {
  socketPath?: string;
  cacheDir?: string;
}

const globalFlags: Record<string, keyof GlobalOptions> = { "--socket": "socketPath", "--cache-dir": "cacheDir" };

/**
 * Takes `--socket PATH` and `--cache-dir DIR` (or `--socket=PATH`) out of argv wherever they
 * stand, so `runtimed --socket s rooms` and `runtimed rooms --socket s` mean the same.
 */
export function splitGlobalOptions(argv: readonly string[]): { globals: GlobalOptions; rest: string[] } {
  const globals: GlobalOptions = {};
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === "--") {
      rest.push(...argv.slice(index));
      break;
    }
    const [flag, inlineValue] = argument.startsWith("--") && argument.includes("=") ? splitOnce(argument, "=") : [argument, undefined];
    const key = globalFlags[flag];
    if (!key) {
      rest.push(argument);
      continue;
    }
    const value = inlineValue ?? argv[++index];
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value, e.g. ${flag} ${key === "socketPath" ? "/tmp/runtimed.sock" : "/tmp/runtimed-cache"}`);
    globals[key] = value;
  }
  return { globals, rest };
}

/** True when the arguments ask for help (`--help`, `-h`) before any `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const argument of argv) {
    if (argument === "--") return false;
    if (argument === "--help" || argument === "-h") return true;
  }
  return false;
}

/** A command's options: each a string or a flag, maybe with a one-letter alias, maybe repeatable. */
export type OptionsSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** The values of parsed options, typed from their spec; absent options are undefined. */
export type OptionValues<T extends OptionsSpec> = {
  [K in keyof T]?: T[K] extends { multiple: true } ? string[] : T[K]["type"] extends "string" ? string : boolean;
};

/** Parses one command's options strictly; unknown options and missing values are UsageErrors. */
export function parseCommandArgs<T extends OptionsSpec>(
  argv: readonly string[],
  options: T,
  helpCommand: string,
): { values: OptionValues<T>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: values as OptionValues<T>, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, "") : String(error);
    throw new UsageError(message, helpCommand);
  }
}

/** Reads a whole, positive number option (`-n 20`, `--timeout 30`). */
export function positiveNumber(value: string | undefined, flag: string, helpCommand: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${flag} takes a positive number, not '${value}'`, helpCommand);
  return number;
}

function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  return [text.slice(0, index), text.slice(index + 1)];
}
