/**
 * `text/html` outputs in sandboxed iframes: `sandbox="allow-scripts"` without `allow-same-origin`
 * gives the frame an opaque origin, so its scripts run but cannot touch this page, its cookie or
 * the daemon (a request from there carries no cookie, and its `Origin: null` is refused). The
 * frame reports its height with `postMessage`; only a number from one of our frames is read.
 */
import { h } from "./dom";

/** What a rendered output is: its element, and what to release when it goes. */
export interface RenderedOutput {
  element: HTMLElement;
  dispose(): void;
}

const MIN_HEIGHT = 24;
const MAX_HEIGHT = 4000;

// Runs inside the frame: tells the page how tall the content is, whenever that changes.
const REPORT_HEIGHT = `<script>(function () {
  function report() { parent.postMessage({ runtimedFrameHeight: document.documentElement.scrollHeight }, "*"); }
  new ResizeObserver(report).observe(document.documentElement);
  addEventListener("load", report);
  report();
})();</script>`;

const frames = new Set<HTMLIFrameElement>();
let listening = false;

function listenForHeights(): void {
  if (listening) return;
  listening = true;
  window.addEventListener("message", (event: MessageEvent) => {
    const height = (event.data as { runtimedFrameHeight?: unknown } | null)?.runtimedFrameHeight;
    if (typeof height !== "number" || !Number.isFinite(height)) return;
    for (const frame of frames) {
      if (frame.contentWindow !== event.source) continue;
      frame.style.height = `${Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(height)))}px`;
    }
  });
}

/** An iframe showing `html` in a sandbox of its own. */
export function htmlFrame(html: string): RenderedOutput {
  listenForHeights();
  // The sandbox is set before the content, so the content never runs unsandboxed.
  const frame = h("iframe", { sandbox: "allow-scripts", className: "output-html", title: "HTML output", referrerpolicy: "no-referrer" });
  frame.srcdoc = `${html}\n${REPORT_HEIGHT}`;
  frames.add(frame);
  return { element: frame, dispose: () => frames.delete(frame) };
}
