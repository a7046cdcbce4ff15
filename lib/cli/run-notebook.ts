import * as fs from "node:fs";
import * as path from "node:path";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import { Session } from "../index";
import type { Cell, ExecutionResult } from "../session/types";
import { UsageError, parseCommandArgs, positiveNumber, wantsHelp } from "./args";
import type { CliContext } from "./context";
import { plural } from "./format";
import { OutputPrinter } from "./output-printer";
import { ProgressBar } from "./progress-bar";
import { waitForSignal, type SignalWait } from "./signals";

/** Help for `runtimed run`. */
export const runHelp = `Usage: runtimed run <notebook.ipynb> [options]

Execute every code cell of a notebook in order on a fresh kernel, showing output as it arrives
(and a progress bar on a terminal). Starts the daemon if none is running.

Options:
  --inplace             Write the results back into the notebook
  -o, --output FILE     Write the executed notebook to FILE
  --timeout SECS        Give up on a cell after SECS seconds (default: 600; 0: no limit)
  --kernel NAME         Kernel to run: python, deno or an installed kernelspec
                        (default: from the notebook's metadata, else python)
  --continue-on-error   Run the remaining cells after a cell fails
  --socket PATH         The daemon's socket
  -h, --help            Show this help

A batch run has no stdin: a cell that asks for input (input(), getpass) fails at once
instead of waiting for an answer that cannot come.

Exit status: 0 when every cell ran, 1 when a cell failed (the run stops there unless
--continue-on-error; results are still written), 130 when interrupted with Ctrl-C (nothing written).
`;

const HELP_COMMAND = "runtimed run --help";
/** A cell that runs longer than this is interrupted, so that an unattended run always ends. */
export const DEFAULT_CELL_TIMEOUT_SECS = 600;
/** The longest timeout a Node timer can hold (2^31 - 1 ms): "no limit" in practice. */
const NO_TIMEOUT_SECS = 2_147_483;

/** How one cell's run ended. */
type CellOutcome = { kind: "done"; result: ExecutionResult } | { kind: "failed"; error: RuntimedError } | { kind: "interrupted" };

/** `runtimed run notebook.ipynb`: executes the notebook; resolves with the exit code. */
export async function runCommand(argv: string[], context: CliContext): Promise<number> {
  if (wantsHelp(argv)) {
    context.stdout.write(runHelp);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      inplace: { type: "boolean" },
      output: { type: "string", short: "o" },
      timeout: { type: "string" },
      kernel: { type: "string" },
      "continue-on-error": { type: "boolean" },
    },
    HELP_COMMAND,
  );
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `Run one notebook at a time, not ${positionals.length}` : "Which notebook? e.g. `runtimed run analysis.ipynb`", HELP_COMMAND);
  if (values.inplace && values.output) throw new UsageError("Use either --inplace or -o FILE, not both", HELP_COMMAND);
  const notebookPath = path.resolve(positionals[0]!);
  const savePath = values.inplace ? notebookPath : values.output ? path.resolve(values.output) : undefined;
  const timeoutSecs = Number(values.timeout) === 0 ? NO_TIMEOUT_SECS : (positiveNumber(values.timeout, "--timeout", HELP_COMMAND) ?? DEFAULT_CELL_TIMEOUT_SECS);
  const kernelType = values.kernel ?? kernelFromNotebook(notebookPath);
  const stopOnError = values["continue-on-error"] !== true;

  const session = await Session.open(notebookPath, { socketPath: context.socketPath, cacheDir: context.cacheDir });
  const signal = waitForSignal();
  try {
    const cells = session.getCells().filter((cell: Cell) => cell.cellType === "code" && cell.source.trim() !== "");
    const bar = new ProgressBar(context.stderr, cells.length, "cells");
    // The bar keeps the bottom line while output scrolls above it; it can only come back once
    // the output ends its line.
    const printer = new OutputPrinter(context.stdout, context.stderr, {
      beforeWrite: () => bar.clear(),
      afterWrite: (atLineStart) => atLineStart && bar.draw(),
    });
    const started = Date.now();
    printer.notice(`Running ${plural(cells.length, "code cell")} of ${path.basename(notebookPath)}`);
    if (cells.length === 0) return finish(printer, session, savePath, "Nothing to run.", 0);

    const kernelStart = await Promise.race([session.startKernel({ kernelType, notebookPath }).then(() => "started" as const), signal.received]);
    if (kernelStart !== "started") return interrupted(printer, bar);
    printer.notice(`Kernel: ${session.kernelType ?? kernelType} in ${session.envSource ?? "an unknown environment"}`);

    const failures: string[] = [];
    for (const [position, cell] of cells.entries()) {
      printer.notice(`── cell ${position + 1}/${cells.length}: ${firstLine(cell.source)}`);
      const outcome = await runCell(session, cell, timeoutSecs, printer, signal);
      printer.endLine();
      bar.update(position + 1);
      if (outcome.kind === "interrupted") return interrupted(printer, bar);
      const failure = describeFailure(outcome);
      if (!failure) continue;
      failures.push(`cell ${position + 1} (${cell.id}): ${failure}`);
      if (stopOnError) {
        const notRun = cells.length - position - 1;
        bar.stop();
        return finish(printer, session, savePath, `Cell ${position + 1} of ${cells.length} failed: ${failure}${notRun ? `; ${plural(notRun, "cell")} not run` : ""}.`, 1);
      }
    }
    bar.stop();
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    if (failures.length) {
      return finish(printer, session, savePath, `${failures.length} of ${plural(cells.length, "cell")} failed in ${elapsed} s:\n  ${failures.join("\n  ")}`, 1);
    }
    return finish(printer, session, savePath, `Ran ${plural(cells.length, "cell")} in ${elapsed} s.`, 0);
  } finally {
    signal.dispose();
    await session.close().catch(() => undefined);
  }
}

/** Runs one cell, printing its outputs live; a Ctrl-C cancels it. */
function runCell(session: Session, cell: Cell, timeoutSecs: number, printer: OutputPrinter, signal: SignalWait): Promise<CellOutcome> {
  printer.startCell();
  return new Promise<CellOutcome>((resolve) => {
    // Nobody can answer an input request in a batch run: the kernel fails input() at once.
    const subscription = session.execute(cell.id, { timeoutSecs, allowStdin: false }).subscribe({
      next: (event) => {
        if (event.type === "output") printer.show(event.index, event.output);
        else if (event.type === "cleared") printer.startCell();
        else if (event.type === "result") resolve({ kind: "done", result: event.result });
      },
      error: (error: unknown) => resolve({ kind: "failed", error: toRuntimedError(error) }),
    });
    // Unsubscribing from `execute` before its result cancels the execution in the daemon.
    void signal.received.then(() => {
      subscription.unsubscribe();
      resolve({ kind: "interrupted" });
    });
  });
}

/** Why a cell failed, in one line, or undefined when it ran fine. */
function describeFailure(outcome: Exclude<CellOutcome, { kind: "interrupted" }>): string | undefined {
  if (outcome.kind === "failed") {
    const { code, message } = outcome.error;
    return code === "TIMEOUT" ? `${message} (set the limit with --timeout SECS, 0 for none)` : message;
  }
  if (outcome.result.success) return undefined;
  const error = outcome.result.error;
  // ipykernel's answer to input() when the request did not allow stdin.
  if (error?.ename === "StdinNotImplementedError") {
    return "the cell asked for input (input() or getpass), but runtimed run has no stdin in batch mode; set the value in the notebook instead";
  }
  return error ? `${error.ename}: ${error.evalue}` : "the kernel reported an error";
}

async function finish(printer: OutputPrinter, session: Session, savePath: string | undefined, summary: string, exitCode: number): Promise<number> {
  printer.notice(summary);
  if (savePath) {
    await session.save(savePath);
    printer.notice(`Wrote ${savePath}`);
  } else {
    printer.notice("Results not written (use --inplace or -o FILE to keep them).");
  }
  return exitCode;
}

function interrupted(printer: OutputPrinter, bar: ProgressBar): number {
  bar.stop();
  printer.notice("Interrupted; the notebook was not written.");
  return 130;
}

/**
 * The kernel a notebook asks for: Deno for TypeScript notebooks, a named kernelspec for other
 * languages, else Python. Also checks that the file is a notebook at all, with a clear error.
 */
function kernelFromNotebook(notebookPath: string): string {
  let text: string;
  try {
    text = fs.readFileSync(notebookPath, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RuntimedError("BAD_REQUEST", code === "ENOENT" ? `No notebook at ${notebookPath}` : `Cannot read ${notebookPath}: ${(error as Error).message}`);
  }
  let metadata: { kernelspec?: { name?: unknown; language?: unknown }; language_info?: { name?: unknown } };
  try {
    metadata = (JSON.parse(text) as { metadata?: typeof metadata }).metadata ?? {};
  } catch (error) {
    throw new RuntimedError("BAD_REQUEST", `${notebookPath} is not a notebook (invalid JSON: ${(error as Error).message})`);
  }
  const name = typeof metadata.kernelspec?.name === "string" ? metadata.kernelspec.name : undefined;
  const language = String(metadata.kernelspec?.language ?? metadata.language_info?.name ?? "python").toLowerCase();
  if (/deno/i.test(name ?? "") || language === "typescript") return "deno";
  if (language === "python" || !name) return "python";
  return name;
}

function firstLine(source: string): string {
  const line = source.trim().split("\n")[0]!;
  return line.length > 60 ? line.slice(0, 57) + "..." : line;
}
