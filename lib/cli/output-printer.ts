import type * as nbformat from "@jupyterlab/nbformat";
import type { Output } from "../session/types";

/** A stream the printer writes to (stdout or stderr of the CLI). */
export interface PrintStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * Prints the outputs of running cells for a person, as they arrive: stream text incrementally
 * (an output event carries the whole merged text at its index, so only the new part is
 * written), results and displays as text, error tracebacks on stderr.
 */
export class OutputPrinter {
  private printedByIndex = new Map<number, string>();
  private lastChar = "\n";

  constructor(
    private readonly stdout: PrintStream,
    private readonly stderr: PrintStream,
    /** Called around every write, e.g. to take a progress bar off the screen and put it back. */
    private readonly hooks: { beforeWrite?: () => void; afterWrite?: (atLineStart: boolean) => void } = {},
  ) {}

  /** True when the cursor is at the start of a line. */
  get atLineStart(): boolean {
    return this.lastChar === "\n";
  }

  /** Starts a new cell: output indexes count from zero again. */
  startCell(): void {
    this.printedByIndex.clear();
  }

  /** Shows the output now at `index` of the running cell. */
  show(index: number, output: Output): void {
    const previous = this.printedByIndex.get(index);
    const rendered = render(output);
    if (rendered === undefined || rendered.text === previous) return;
    const stream = rendered.toStderr ? this.stderr : this.stdout;
    this.printedByIndex.set(index, rendered.text);
    if (output.output_type === "stream" && previous !== undefined) return this.write(stream, appended(previous, rendered.text));
    this.write(stream, rendered.text);
  }

  /** Ends the current line, so what follows starts on its own. */
  endLine(): void {
    if (!this.atLineStart) this.write(this.stdout, "\n");
  }

  /** Writes a notice (cell header, summary) on stderr, on its own line. */
  notice(text: string): void {
    this.endLine();
    this.write(this.stderr, text.endsWith("\n") ? text : text + "\n");
  }

  private write(stream: PrintStream, text: string): void {
    if (!text) return;
    this.hooks.beforeWrite?.();
    stream.write(stream.isTTY ? text : text.replace(ANSI_ESCAPE, ""));
    this.lastChar = text.at(-1)!;
    this.hooks.afterWrite?.(this.atLineStart);
  }
}

/** What to print for an output, and where; undefined for outputs with nothing to show. */
function render(output: Output): { text: string; toStderr: boolean } | undefined {
  switch (output.output_type) {
    case "stream": {
      const stream = output as nbformat.IStream;
      return { text: multiline(stream.text), toStderr: stream.name === "stderr" };
    }
    case "error": {
      const error = output as nbformat.IError;
      const traceback = error.traceback.length ? error.traceback.join("\n") : `${error.ename}: ${error.evalue}`;
      return { text: traceback + "\n", toStderr: true };
    }
    case "execute_result":
    case "display_data": {
      const data = (output as nbformat.IDisplayData).data ?? {};
      const plain = data["text/plain"];
      if (plain !== undefined) return { text: withNewline(multiline(plain as nbformat.MultilineString)), toStderr: false };
      const kinds = Object.keys(data);
      return kinds.length ? { text: `[${kinds.join(", ")} output]\n`, toStderr: false } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The text to write so that a terminal shows `next` where it showed `previous`: usually just
 * the appended part; when the last line was rewritten (a `\r` progress bar in the cell), that
 * line again from its start.
 */
function appended(previous: string, next: string): string {
  if (next.startsWith(previous)) return next.slice(previous.length);
  let common = 0;
  while (common < previous.length && common < next.length && previous[common] === next[common]) common++;
  const lineStart = previous.lastIndexOf("\n", common - 1) + 1;
  const rewritesLastLine = !previous.slice(lineStart).includes("\n");
  return (rewritesLastLine ? "\r" : "\n") + next.slice(lineStart);
}

function multiline(text: nbformat.MultilineString): string {
  return Array.isArray(text) ? text.join("") : text;
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : text + "\n";
}
