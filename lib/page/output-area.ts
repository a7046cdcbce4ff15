/**
 * A cell's outputs, kept in step with `session.outputs$(cellId)`: each emission is the whole list,
 * and only the outputs that changed are rendered again. A stream that grows (or whose `\r`
 * progress line the daemon rewrote) is updated in place, so the page shows one updating line.
 */
import type { Output } from "../browser";
import { h } from "./dom";
import { renderOutput, updateStream, type RenderedOutput } from "./output-renderers";

interface Shown {
  output: Output;
  /** What the output looked like when rendered, to skip re-rendering an equal one. */
  key: string;
  rendered: RenderedOutput;
}

/** The outputs of one cell. */
export class OutputArea {
  readonly element = h("div", { className: "cell-outputs" });
  private shown: Shown[] = [];

  /** Shows `outputs`, re-rendering only those that changed. */
  show(outputs: Output[]): void {
    outputs.forEach((output, index) => {
      const current = this.shown[index];
      if (current?.output === output) return;
      const key = JSON.stringify(output);
      if (current?.key === key) {
        current.output = output;
        return;
      }
      if (current && isStream(current.output) && isStream(output) && current.output.name === output.name) {
        updateStream(current.rendered, streamText(output));
        this.shown[index] = { output, key, rendered: current.rendered };
        return;
      }
      const rendered = renderOutput(output);
      const wrapper = h("div", { className: "output" });
      wrapper.appendChild(rendered.element);
      if (current) {
        current.rendered.element.parentElement!.replaceWith(wrapper);
        current.rendered.dispose();
      } else {
        this.element.appendChild(wrapper);
      }
      this.shown[index] = { output, key, rendered };
    });
    for (const gone of this.shown.splice(outputs.length)) {
      gone.rendered.element.parentElement!.remove();
      gone.rendered.dispose();
    }
    this.element.classList.toggle("empty", outputs.length === 0);
  }

  /** Releases what the outputs hold (blob URLs, frames). */
  dispose(): void {
    this.show([]);
  }
}

function isStream(output: Output): output is Output & { output_type: "stream"; name: string; text: string | string[] } {
  return output.output_type === "stream";
}

function streamText(output: Output & { text: string | string[] }): string {
  return Array.isArray(output.text) ? output.text.join("") : output.text;
}
