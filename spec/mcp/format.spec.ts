import type * as nbformat from "@jupyterlab/nbformat";
import { cellHeader, cellSummary, MAX_OUTPUT_CHARS, outputText, outputsToContent, preview, stripAnsi, truncateMiddle } from "../../lib/mcp/format";

const hint = 'get_results with execution_id "e1" and full_output: true';

describe("outputs for an LLM", () => {
  it("streams and text/plain come as text without ANSI escapes", () => {
    const stream: nbformat.IStream = { output_type: "stream", name: "stdout", text: ["\x1b[31mred\x1b[0m ", "text\n"] };
    const result: nbformat.IExecuteResult = { output_type: "execute_result", execution_count: 1, data: { "text/plain": "42", "text/html": "<b>42</b>" }, metadata: {} };
    expect(outputsToContent([stream, result], { fullOutputHint: hint })).toEqual([
      { type: "text", text: "red text\n" },
      { type: "text", text: "42" },
    ]);
  });

  it("an error is ename: evalue, then the traceback with escapes (colours and OSC) stripped", () => {
    const error: nbformat.IError = { output_type: "error", ename: "KeyError", evalue: "'x'", traceback: ["\x1b[0;31mTraceback\x1b[0m", "\x1b]0;title\x07line 1"] };
    expect(outputText(error)).toBe("KeyError: 'x'\nTraceback\nline 1");
    expect(stripAnsi("\x1b[1;32mok\x1b[0m")).toBe("ok");
  });

  it("prefers text written for models, then markdown, then plain text, and pretty-prints JSON", () => {
    const bundle = (data: nbformat.IMimeBundle): nbformat.IDisplayData => ({ output_type: "display_data", data, metadata: {} });
    expect(outputText(bundle({ "text/plain": "plain", "text/llm+plain": "for models" }))).toBe("for models");
    expect(outputText(bundle({ "text/plain": "plain", "text/markdown": "# md" }))).toBe("# md");
    expect(outputText(bundle({ "application/json": { a: [1] } }))).toBe('{\n  "a": [\n    1\n  ]\n}');
  });

  it("images become MCP image content; outputs with neither text nor image are named", () => {
    const png: nbformat.IDisplayData = { output_type: "display_data", data: { "image/png": "iVBO\nRw==\n", "text/plain": "<Figure>" }, metadata: {} };
    const html: nbformat.IDisplayData = { output_type: "display_data", data: { "text/html": "<table/>" }, metadata: {} };
    expect(outputsToContent([png, html], { fullOutputHint: hint })).toEqual([
      { type: "text", text: "<Figure>" },
      { type: "image", data: "iVBORw==", mimeType: "image/png" },
      { type: "text", text: "[display_data with text/html: not shown as text; it is in the notebook]" },
    ]);
  });

  it("long text keeps its start and end, with a note naming the call that returns all of it", () => {
    const long = "a".repeat(MAX_OUTPUT_CHARS) + "MIDDLE" + "z".repeat(MAX_OUTPUT_CHARS);
    const [block] = outputsToContent([{ output_type: "stream", name: "stdout", text: long }], { fullOutputHint: hint });
    const text = (block as { text: string }).text;
    expect(text.startsWith("aaa")).toBe(true);
    expect(text.endsWith("zzz")).toBe(true);
    expect(text).not.toContain("MIDDLE");
    expect(text).toContain(`of ${long.length} characters omitted; ${hint} returns everything`);
    expect(outputsToContent([{ output_type: "stream", name: "stdout", text: long }], { full: true, fullOutputHint: hint })).toEqual([{ type: "text", text: long }]);
    expect(truncateMiddle("short", 10, hint)).toBe("short");
  });

  it("skips a hole in a running execution's output list", () => {
    const outputs: (nbformat.IOutput | undefined)[] = [];
    outputs[1] = { output_type: "stream", name: "stdout", text: "second" };
    expect(outputsToContent(outputs, { fullOutputHint: hint })).toEqual([{ type: "text", text: "second" }]);
  });
});

describe("cell lines", () => {
  it("a header names the cell, its type, status, execution count and execution id", () => {
    expect(cellHeader("cell-1", "code", { status: "done", executionCount: 3, executionId: "e1" })).toBe("━━━ cell-1 (code) ✓ done [3] exec=e1 ━━━");
    expect(cellHeader("cell-2", "markdown")).toBe("━━━ cell-2 (markdown) ━━━");
  });

  it("a summary line collapses whitespace and cuts the source preview", () => {
    const cell = { id: "cell-1", cellType: "code" as const, source: "import os\n\nprint(  os.getcwd())", executionCount: 4, outputs: [{ output_type: "stream", name: "stdout", text: "/" }], metadata: {} };
    expect(cellSummary(2, cell, "running", 12)).toBe("2 | code | running | id=cell-1 | exec=4 | outputs=1 | import os pr…[+17 chars]");
    expect(preview("a  b\n c", 80)).toBe("a b c");
  });
});
