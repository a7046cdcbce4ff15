import type * as nbformat from "@jupyterlab/nbformat";
import { filter, map, type OperatorFunction } from "rxjs";
import type { ExecutionEvent } from "../types";
import { displayData } from "./display-data";

/** The value of one MIME type in an output's bundle: text (maybe split in lines) or JSON. */
export type MimeValue = nbformat.IMimeBundle[string];

/**
 * Emits the data of one MIME type from the execution's display_data and execute_result
 * outputs, as they arrive or are updated; outputs without that type are skipped.
 *
 * ```ts
 * session.execute(plotCellId).pipe(mimeData("image/png"))
 *   .subscribe((png) => writeFileSync("plot.png", Buffer.from(String(png), "base64")));
 * ```
 */
export function mimeData(mimeType: string): OperatorFunction<ExecutionEvent, MimeValue> {
  return (events$) =>
    events$.pipe(
      displayData(),
      filter((output) => output.data[mimeType] !== undefined),
      map((output) => output.data[mimeType]),
    );
}
