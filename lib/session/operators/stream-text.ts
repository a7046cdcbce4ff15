import type * as nbformat from "@jupyterlab/nbformat";
import { Observable, type OperatorFunction } from "rxjs";
import type { ExecutionEvent } from "../types";

/**
 * Emits what one stream (stdout or stderr) of an execution writes, as terminal text: writing
 * every emission to a terminal shows the stream as the kernel's terminal would. Appended text
 * is emitted as it is. When the daemon rewrote earlier text (a `\r` progress bar), the emission
 * moves the cursor back and rewrites from the start of the first changed line: `\r` within the
 * last line (with `ESC[K` if the line got shorter), `ESC[nF ESC[J` when the change is n lines up.
 * After a `cleared` event the next text is emitted whole.
 *
 * ```ts
 * session.execute(id).pipe(streamText("stdout")).subscribe((text) => process.stdout.write(text));
 * ```
 */
export function streamText(name: "stdout" | "stderr"): OperatorFunction<ExecutionEvent, string> {
  return (events$) =>
    new Observable<string>((subscriber) => {
      // What the consumer's terminal shows of each output of each execution (a pipeline carries
      // several): the whole text, and its unfinished tail (what a delta may rewrite).
      const shownByOutput = new Map<string, { text: string; tail: string | undefined }>();
      return events$.subscribe({
        next: (event) => {
          if (event.type === "cleared") {
            for (const key of [...shownByOutput.keys()]) if (key.startsWith(`${event.executionId}:`)) shownByOutput.delete(key);
            return;
          }
          if (event.type !== "output" || event.output.output_type !== "stream") return;
          const stream = event.output as nbformat.IStream;
          if (stream.name !== name) return;
          const text = Array.isArray(stream.text) ? stream.text.join("") : stream.text;
          const key = `${event.executionId}:${event.index}`;
          const shown = shownByOutput.get(key);
          const delta = event.delta;
          shownByOutput.set(key, { text, tail: delta?.tail });
          // With a delta only the old tail can differ: compare that, not the whole (maybe huge) text.
          const change =
            delta && !delta.reset && shown?.tail !== undefined
              ? terminalChange(shown.tail, delta.appended + delta.tail)
              : terminalChange(shown?.text ?? "", text);
          if (change !== "") subscriber.next(change);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/** The terminal text that turns a terminal showing `shown` (cursor at its end) into `text`. */
function terminalChange(shown: string, text: string): string {
  if (text.startsWith(shown)) return text.slice(shown.length);
  let common = 0;
  while (common < shown.length && common < text.length && shown[common] === text[common]) common++;
  const lineStart = shown.lastIndexOf("\n", common - 1) + 1;
  const linesUp = countNewlines(shown, lineStart);
  const rewritten = text.slice(lineStart);
  if (linesUp > 0) return `\x1b[${linesUp}F\x1b[J${rewritten}`;
  const newLineLength = rewritten.includes("\n") ? rewritten.indexOf("\n") : rewritten.length;
  const erase = newLineLength < shown.length - lineStart ? "\x1b[K" : "";
  return `\r${erase}${rewritten}`;
}

function countNewlines(text: string, from: number): number {
  let count = 0;
  for (let position = text.indexOf("\n", from); position !== -1; position = text.indexOf("\n", position + 1)) count++;
  return count;
}
