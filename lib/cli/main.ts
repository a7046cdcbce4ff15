#!/usr/bin/env node
/**
 * The `runtimed` command: run and inspect the daemon, list rooms and the pool, run notebooks.
 * Exit codes: 0 success, 1 failure (a failed cell, no daemon, ...), 2 bad command line.
 */
import { RuntimedError } from "../protocol/errors";
import { PACKAGE_VERSION } from "../protocol/version";
import { UsageError, splitGlobalOptions } from "./args";
import { resolveContext, type CliContext } from "./context";

/** Help for `runtimed`. */
export const mainHelp = `Usage: runtimed <command> [options]

Drive Jupyter kernels through shared, live notebooks. A local daemon owns the notebooks
("rooms") and their kernels; it starts on demand and these commands show and control it.

Commands:
  daemon start [--foreground]   Start the daemon (detached, or in this terminal)
  daemon stop                   Stop the daemon
  daemon status [--json]        Show version, pid, uptime, socket, rooms and pool
  daemon logs [-f] [-n N]       Print (and follow) the daemon log
  daemon gc [--grace SECS]      Remove stored outputs no notebook refers to
  rooms [--json]                List open notebook rooms
  pool [--flush] [--json]       Show (or flush) prewarmed environments
  run <notebook.ipynb>          Execute every code cell of a notebook
  open [notebook.ipynb]         Print the web page's address (with the token), opening a notebook there
  mcp                           Serve MCP on stdio: AI agents work in live notebooks

Options for every command:
  --socket PATH     The daemon's socket (default: $RUNTIMED_SOCKET_PATH, else <cache dir>/runtimed.sock)
  --cache-dir DIR   The daemon's cache dir (default: $RUNTIMED_CACHE_DIR, else ~/.cache/runtimed)
  -h, --help        Show help (also: runtimed <command> --help)
  -V, --version     Show the version

Examples:
  runtimed daemon status
  runtimed run analysis.ipynb -o analysis.out.ipynb
  runtimed open analysis.ipynb
`;

type Command = (argv: string[], context: CliContext) => Promise<number>;

// Loaded on demand: the daemon and the SDK pull in ZeroMQ and Automerge, which `--help` and
// `rooms` need not pay for.
const commands: Record<string, () => Promise<Command>> = {
  daemon: async () => (await import("./daemon-commands")).daemonCommand,
  rooms: async () => (await import("./rooms")).roomsCommand,
  pool: async () => (await import("./rooms")).poolCommand,
  run: async () => (await import("./run-notebook")).runCommand,
  open: async () => (await import("./open")).openCommand,
  mcp: async () => (await import("./mcp")).mcpCommand,
};

/** Runs the command line `argv` (without `node` and the script) and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let context: CliContext | undefined;
  try {
    const { globals, rest } = splitGlobalOptions(argv);
    context = resolveContext(globals);
    const [name, ...commandArgv] = rest;
    if (name === undefined) {
      context.stderr.write(mainHelp);
      return 2;
    }
    if (name === "--help" || name === "-h" || name === "help") {
      context.stdout.write(mainHelp);
      return 0;
    }
    if (name === "--version" || name === "-V") {
      context.stdout.write(`runtimed ${PACKAGE_VERSION}\n`);
      return 0;
    }
    const loadCommand = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!loadCommand) {
      context.stderr.write(`runtimed: unknown command '${name}'\n\n${mainHelp}`);
      return 2;
    }
    const command = await loadCommand();
    return await command(commandArgv, context);
  } catch (error) {
    const stderr = context?.stderr ?? process.stderr;
    if (error instanceof UsageError) {
      stderr.write(`runtimed: ${error.message}\nSee \`${error.helpCommand}\`.\n`);
      return 2;
    }
    if (error instanceof RuntimedError) {
      stderr.write(`runtimed: ${error.message}\n`);
      return 1;
    }
    stderr.write(`runtimed: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `runtimed daemon logs -f | head` closes our stdout early: that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  void main(process.argv.slice(2)).then((exitCode) => {
    // Let pending output drain; nothing else should keep the process alive after a command.
    process.exitCode = exitCode;
  });
}
