/**
 * Notebook outputs as an LLM reads them: text with ANSI escapes stripped (streams already come
 * terminal-rendered from the daemon), errors as `ename: evalue` plus the traceback, images as MCP
 * image content, and long text cut in the middle with a note saying how to get all of it.
 */
import { stripVTControlCharacters } from "node:util";
import type * as nbformat from "@jupyterlab/nbformat";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Cell, Output } from "../index";

/** One item of a tool result's `content`. */
export type ContentBlock = CallToolResult["content"][number];

/** Text longer than this (per output) is cut unless the caller asks for the full output. */
export const MAX_OUTPUT_CHARS = 6000;

/** MIME types shown as text, best first (runtimed's order; `text/llm+plain` is written for models). */
const TEXT_MIME_PRIORITY = ["text/llm+plain", "text/markdown", "text/latex", "text/plain", "application/json"] as const;
/** MIME types an MCP client can show as an image. */
const IMAGE_MIME_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

/** How to render outputs: whole, or cut with a note naming the call that returns everything. */
export interface RenderOptions {
  full?: boolean;
  /** The call that returns the untruncated text, for the note, e.g. `get_results(execution_id: "…", full_output: true)`. */
  fullOutputHint: string;
}

/** Removes ANSI colour, cursor and OSC sequences (Node's own parser, as the terminal would). */
export function stripAnsi(text: string): string {
  return stripVTControlCharacters(text);
}

/** Cuts `text` to `limit` characters, keeping its start and its end (where errors usually are). */
export function truncateMiddle(text: string, limit: number, hint: string): string {
  if (text.length <= limit) return text;
  const head = Math.floor(limit * 0.7);
  const tail = limit - head;
  const omitted = text.length - head - tail;
  return `${text.slice(0, head)}\n… [${omitted} of ${text.length} characters omitted; ${hint} returns everything] …\n${text.slice(text.length - tail)}`;
}

function joined(value: nbformat.MultilineString | undefined): string {
  if (value === undefined) return "";
  return Array.isArray(value) ? value.join("") : value;
}

/** The best text form of a MIME bundle, or undefined when it has none. */
function bundleText(data: nbformat.IMimeBundle): string | undefined {
  for (const mime of TEXT_MIME_PRIORITY) {
    const value = data[mime];
    if (value === undefined) continue;
    if (mime === "application/json") return JSON.stringify(value, null, 2);
    return typeof value === "string" || Array.isArray(value) ? stripAnsi(joined(value as nbformat.MultilineString)) : JSON.stringify(value);
  }
  return undefined;
}

/** One output as plain text (untruncated), or undefined when it has no text form (an image only). */
export function outputText(output: Output): string | undefined {
  switch (output.output_type) {
    case "stream":
      return stripAnsi(joined((output as nbformat.IStream).text));
    case "error": {
      const error = output as nbformat.IError;
      const traceback = error.traceback.map(stripAnsi).join("\n");
      return traceback ? `${error.ename}: ${error.evalue}\n${traceback}` : `${error.ename}: ${error.evalue}`;
    }
    case "display_data":
    case "execute_result":
      return bundleText((output as nbformat.IDisplayData).data);
    default:
      return undefined;
  }
}

/** The images of an output, as MCP image content. */
function outputImages(output: Output): ContentBlock[] {
  if (output.output_type !== "display_data" && output.output_type !== "execute_result") return [];
  const data = (output as nbformat.IDisplayData).data;
  const images: ContentBlock[] = [];
  for (const mimeType of IMAGE_MIME_TYPES) {
    const value = data[mimeType];
    // nbformat keeps binary MIME values as base64 text, possibly split in lines.
    if (typeof value === "string" || Array.isArray(value)) images.push({ type: "image", data: joined(value as nbformat.MultilineString).replace(/\s+/g, ""), mimeType });
  }
  return images;
}

/** A display output whose only forms are neither text nor images (HTML, widgets, ...): named, so the agent knows it is there. */
function unseenNote(output: Output): string | undefined {
  if (output.output_type !== "display_data" && output.output_type !== "execute_result") return undefined;
  const data = (output as nbformat.IDisplayData).data;
  const seen = [...TEXT_MIME_PRIORITY, ...IMAGE_MIME_TYPES].some((mime) => data[mime] !== undefined);
  return seen ? undefined : `[${output.output_type} with ${Object.keys(data).join(", ") || "no data"}: not shown as text; it is in the notebook]`;
}

/** Outputs as content blocks: one text block per output with text, one image block per image. */
export function outputsToContent(outputs: readonly (Output | undefined)[], options: RenderOptions): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  for (const output of outputs) {
    // A running execution's list may have a hole where an output has not arrived yet.
    if (!output) continue;
    const text = outputText(output) ?? unseenNote(output);
    if (text !== undefined && text !== "") {
      blocks.push({ type: "text", text: options.full ? text : truncateMiddle(text, MAX_OUTPUT_CHARS, options.fullOutputHint) });
    }
    blocks.push(...outputImages(output));
  }
  return blocks;
}

/** Status marks as runtimed's MCP server shows them. */
const STATUS_ICONS: Record<string, string> = { done: "✓", error: "✗", running: "◐", queued: "⧗", timed_out: "⊘", cancelled: "⊘" };

/** A header line for a cell or an execution: `━━━ cell-… (code) ✓ done [3] exec=… ━━━`. */
export function cellHeader(cellId: string, cellType: string, details: { status?: string; executionCount?: number | null; executionId?: string } = {}): string {
  const parts = [`━━━ ${cellId}`, `(${cellType})`];
  if (details.status) parts.push(`${STATUS_ICONS[details.status] ?? "?"} ${details.status}`);
  if (details.executionCount !== undefined && details.executionCount !== null) parts.push(`[${details.executionCount}]`);
  if (details.executionId) parts.push(`exec=${details.executionId}`);
  parts.push("━━━");
  return parts.join(" ");
}

/** Whitespace collapsed to single spaces, cut to `limit` characters with a count of the rest. */
export function preview(text: string, limit: number): string {
  const collapsed = text.split(/\s+/).filter(Boolean).join(" ");
  return collapsed.length <= limit ? collapsed : `${collapsed.slice(0, limit)}…[+${collapsed.length - limit} chars]`;
}

/** One line about a cell, for listings: `2 | code | running | id=cell-… | exec=4 | outputs=1 | import numpy…`. */
export function cellSummary(index: number, cell: Cell, status: string | undefined, previewChars: number): string {
  const parts = [String(index), cell.cellType];
  if (status) parts.push(status);
  parts.push(`id=${cell.id}`);
  if (cell.cellType === "code" && cell.executionCount !== null) parts.push(`exec=${cell.executionCount}`);
  if (cell.outputs.length > 0) parts.push(`outputs=${cell.outputs.length}`);
  if (cell.source) parts.push(preview(cell.source, previewChars));
  return parts.join(" | ");
}

/** A cell in snake_case for `structuredContent`, with its full nbformat outputs. */
export function structuredCell(cell: Cell): Record<string, unknown> {
  return { cell_id: cell.id, cell_type: cell.cellType, source: cell.source, execution_count: cell.executionCount, outputs: cell.outputs, metadata: cell.metadata };
}
