import type { OperatorFunction } from "rxjs";
import type { ExecutionEvent } from "../types";
import { streamText } from "./stream-text";

/**
 * Emits the text an execution writes to stderr as it arrives, as terminal text (see `streamText`).
 *
 * ```ts
 * session.execute(id).pipe(stderr()).subscribe((text) => process.stderr.write(text));
 * ```
 */
export function stderr(): OperatorFunction<ExecutionEvent, string> {
  return streamText("stderr");
}
