import * as Automerge from "@automerge/automerge";
import { decodeManifest } from "../outputs/manifest";
import { plainString, type NotebookDoc } from "./schema";

const CELL_TYPES = new Set(["code", "markdown", "raw"]);

/**
 * What is wrong with a notebook document, or undefined when it has the schema every client and
 * the daemon rely on (DESIGN.md "Notebook document"): a `cells` list of cells with a unique
 * non-empty string `id`, a known `cell_type`, text `source`, a number-or-null
 * `execution_count`, a list of output manifests and a `metadata` map; string metadata values.
 * Output manifests are decoded only for cells in `outputsTouched` (by index), since nobody but
 * the daemon writes them and decoding every one on every change would cost too much.
 */
export function notebookProblem(doc: NotebookDoc, outputsTouched: ReadonlySet<number> = new Set()): string | undefined {
  if (typeof doc !== "object" || doc === null) return "the document is not a map";
  if (!Array.isArray(doc.cells)) return "`cells` is not a list";
  if (!isMap(doc.metadata)) return "`metadata` is not a map";
  for (const [key, value] of Object.entries(doc.metadata)) {
    if (!isString(value)) return `metadata ${JSON.stringify(key)} is not a string`;
  }
  const ids = new Set<string>();
  for (let index = 0; index < doc.cells.length; index++) {
    const problem = cellProblem(doc.cells[index], outputsTouched.has(index));
    if (problem) return `cell ${index}: ${problem}`;
    const id = plainString(doc.cells[index]!.id);
    if (ids.has(id)) return `cell ${index}: id ${JSON.stringify(id)} is used twice`;
    ids.add(id);
  }
  return undefined;
}

/** The indices of cells whose outputs a set of patches touched (new cells included). */
export function cellsWithTouchedOutputs(patches: readonly Automerge.Patch[]): Set<number> {
  const touched = new Set<number>();
  for (const patch of patches) {
    const [top, index, field] = patch.path;
    if (top !== "cells" || typeof index !== "number") continue;
    if (field === undefined || field === "outputs") touched.add(index);
  }
  return touched;
}

function cellProblem(cell: unknown, checkOutputs: boolean): string | undefined {
  if (!isMap(cell)) return "not a map";
  if (!isString(cell.id) || plainString(cell.id).length === 0) return "`id` is not a non-empty string";
  if (!isString(cell.cell_type) || !CELL_TYPES.has(plainString(cell.cell_type))) return "`cell_type` is not code, markdown or raw";
  if (typeof cell.source !== "string") return "`source` is not text";
  if (cell.execution_count !== null && !(typeof cell.execution_count === "number" && Number.isFinite(cell.execution_count))) {
    return "`execution_count` is not a number or null";
  }
  if (!Array.isArray(cell.outputs)) return "`outputs` is not a list";
  if (!isMap(cell.metadata)) return "`metadata` is not a map";
  if (cell.attachments !== undefined && !isString(cell.attachments)) return "`attachments` is not a string";
  for (let i = 0; i < cell.outputs.length; i++) {
    const output: unknown = cell.outputs[i];
    if (!isString(output)) return `output ${i} is not a string`;
    if (checkOutputs) {
      try {
        decodeManifest(plainString(output));
      } catch (error) {
        return `output ${i}: ${(error as Error).message}`;
      }
    }
  }
  return undefined;
}

function isString(value: unknown): boolean {
  return typeof value === "string" || value instanceof Automerge.ImmutableString;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Automerge.ImmutableString);
}
