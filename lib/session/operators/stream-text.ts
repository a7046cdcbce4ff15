import type * as nbformat from "@jupyterlab/nbformat";
import { Observable, type OperatorFunction } from "rxjs";
import type { ExecutionEvent } from "../types";

/**
 * Emits the new text of one stream (stdout or stderr) as it arrives: each emission is what
 * was appended since the last one, so writing every emission to a terminal reproduces the
 * stream. If the kernel rewrote earlier text (a `\r` progress bar), the whole current text
 * of that output is emitted again after a `\r`-free reset marker is impossible to express, so
 * the operator emits the rewritten tail from the first changed character.
 */
export function streamText(name: "stdout" | "stderr"): OperatorFunction<ExecutionEvent, string> {
  return (events$) =>
    new Observable<string>((subscriber) => {
      const seen = new Map<number, string>();
      return events$.subscribe({
        next: (event) => {
          if (event.type === "cleared") return seen.clear();
          if (event.type !== "output" || event.output.output_type !== "stream") return;
          const stream = event.output as nbformat.IStream;
          if (stream.name !== name) return;
          const text = Array.isArray(stream.text) ? stream.text.join("") : stream.text;
          const before = seen.get(event.index) ?? "";
          seen.set(event.index, text);
          if (text.startsWith(before)) {
            if (text.length > before.length) subscriber.next(text.slice(before.length));
          } else {
            let common = 0;
            while (common < before.length && common < text.length && before[common] === text[common]) common++;
            subscriber.next(text.slice(common));
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
