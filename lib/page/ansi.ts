/**
 * Terminal text (stream output, tracebacks) as HTML: ANSI SGR colours and styles become inline
 * styles, through `ansi_up`, which escapes every `&<>"'` of the text itself. The daemon has
 * already applied `\r` and `\b`, so what is left to render is colour.
 */
import { AnsiUp } from "ansi_up";

/** Safe HTML for terminal text: escaped, with its colours. */
export function ansiToHtml(text: string): string {
  // A fresh converter per text: ansi_up carries colour state from one call to the next, and each
  // output is rendered whole.
  const converter = new AnsiUp();
  converter.escape_html = true;
  return converter.ansi_to_html(text);
}
