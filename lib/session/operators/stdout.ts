import type { OperatorFunction } from "rxjs";
import type { ExecutionEvent } from "../types";
import { streamText } from "./stream-text";

/**
 * Emits the text an execution writes to stdout as it arrives, as terminal text (see `streamText`).
 *
 * ```ts
 * session.execute(id).pipe(stdout()).subscribe((text) => process.stdout.write(text));
 * ```
 */
export function stdout(): OperatorFunction<ExecutionEvent, string> {
  return streamText("stdout");
}
