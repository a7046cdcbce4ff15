/**
 * One nbformat output as DOM. Text goes through `textContent` or the escaping ANSI renderer;
 * HTML only into a sandboxed iframe; images (SVG included) only as `<img>` of a blob URL, where
 * an SVG's scripts never run. Nothing a kernel wrote is ever parsed as this page's markup.
 */
import type { Output } from "../browser";
import { ansiToHtml } from "./ansi";
import { h } from "./dom";
import { htmlFrame, type RenderedOutput } from "./html-frame";

export type { RenderedOutput } from "./html-frame";

/** MIME types this page shows, richest first; a bundle is shown by the first one it has. */
const MIME_ORDER = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "image/gif", "text/markdown", "application/json", "text/plain"] as const;

type MimeBundle = Record<string, unknown>;

/** Renders one output. */
export function renderOutput(output: Output): RenderedOutput {
  switch (output.output_type) {
    case "stream":
      return still(terminalText(`output-stream ${output.name === "stderr" ? "stderr" : "stdout"}`, joined(output.text)));
    case "error":
      return still(errorElement(String(output.ename ?? ""), String(output.evalue ?? ""), (output.traceback as unknown[] | undefined) ?? []));
    case "display_data":
    case "execute_result":
      return renderBundle((output.data ?? {}) as MimeBundle, (output.metadata ?? {}) as Record<string, unknown>);
    default:
      return still(h("div", { className: "output-unknown" }, `(an output of type ${String(output.output_type)} this page does not show)`));
  }
}

/** Updates a rendered stream output in place with its new text (a progress bar redraws its line). */
export function updateStream(rendered: RenderedOutput, text: string): void {
  rendered.element.innerHTML = ansiToHtml(text);
}

/** A `<pre>` of terminal text with its ANSI colours. */
function terminalText(className: string, text: string): HTMLElement {
  const pre = h("pre", { className });
  // ansi_up escapes the text; the only markup is its own colour spans.
  pre.innerHTML = ansiToHtml(text);
  return pre;
}

function errorElement(ename: string, evalue: string, traceback: unknown[]): HTMLElement {
  const lines = traceback.map((line) => String(line));
  return h(
    "div",
    { className: "output-error" },
    h("div", { className: "error-name" }, h("strong", {}, ename), evalue ? `: ${evalue}` : ""),
    lines.length > 0 ? terminalText("error-traceback", lines.join("\n")) : null,
  );
}

function renderBundle(data: MimeBundle, metadata: Record<string, unknown>): RenderedOutput {
  const mime = MIME_ORDER.find((type) => data[type] !== undefined);
  if (!mime) return still(h("div", { className: "output-unknown" }, `(no view for ${Object.keys(data).join(", ") || "an empty output"})`));
  const value = data[mime];
  switch (mime) {
    case "text/html":
      return htmlFrame(joined(value));
    case "image/svg+xml":
      return image(mime, new TextEncoder().encode(joined(value)), metadata[mime]);
    case "image/png":
    case "image/jpeg":
    case "image/gif":
      return image(mime, base64Bytes(joined(value)), metadata[mime]);
    case "application/json":
      return still(h("pre", { className: "output-json" }, JSON.stringify(value, null, 2)));
    case "text/markdown":
      return still(h("pre", { className: "output-markdown" }, joined(value)));
    case "text/plain":
      return still(terminalText("output-text", joined(value)));
  }
}

/** An `<img>` of the bytes through a blob URL, released with the output. */
function image(mime: string, bytes: Uint8Array<ArrayBuffer>, metadata: unknown): RenderedOutput {
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
  const size = (metadata ?? {}) as { width?: unknown; height?: unknown };
  const img = h("img", {
    className: "output-image",
    src: url,
    alt: `${mime} output`,
    width: typeof size.width === "number" ? size.width : undefined,
    height: typeof size.height === "number" ? size.height : undefined,
  });
  return { element: img, dispose: () => URL.revokeObjectURL(url) };
}

function still(element: HTMLElement): RenderedOutput {
  return { element, dispose: () => undefined };
}

/** nbformat's multiline strings (a string or a list of lines) as one string. */
function joined(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join("");
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Decodes base64 (kernels may wrap it in lines); invalid text yields no bytes, a broken image. */
function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(text.replace(/\s+/g, ""));
  } catch {
    return new Uint8Array(0);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
