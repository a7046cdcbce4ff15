import * as Automerge from "@automerge/automerge";
import { decodeManifest } from "../outputs/manifest";
import { plainString, type NotebookDoc } from "./schema";

const CELL_TYPES = new Set(["code", "markdown", "raw"]);

/**
 * What is wrong with a notebook document, or undefined when it has the schema every client and
 * the daemon rely on (DESIGN.md "Notebook document"): a `cells` list of cells with a unique
 * non-empty string `id`, a known `cell_type`, text `source`, a number-or-null
 * `execution_count`, a list of output manifests that decode and a `metadata` map; string
 * metadata values. The whole document is checked; {@link NotebookValidator} checks what changed.
 */
export function notebookProblem(doc: NotebookDoc): string | undefined {
  return new NotebookValidator().problem(doc);
}

/**
 * Checks version after version of one document, as {@link notebookProblem} does, at the cost of
 * what changed: Automerge keeps the objects of unchanged cells (and of unchanged output lists)
 * from one version to the next, so a cell object checked once is not checked again, and output
 * manifests are decoded only in output lists not seen before. Only the top level and the
 * uniqueness of ids are looked at whole each time (a pass over the ids).
 */
export class NotebookValidator {
  /** Cell maps found valid, with their ids. */
  private readonly checkedCells = new WeakMap<object, string>();
  /** Notebook metadata maps found valid. */
  private readonly checkedMetadata = new WeakSet<object>();
  /** Output lists whose manifests decoded. */
  private readonly checkedOutputs = new WeakSet<object>();

  /** What is wrong with this version of the document, or undefined. */
  problem(doc: NotebookDoc): string | undefined {
    if (typeof doc !== "object" || doc === null) return "the document is not a map";
    if (!Array.isArray(doc.cells)) return "`cells` is not a list";
    if (!isMap(doc.metadata)) return "`metadata` is not a map";
    if (!this.checkedMetadata.has(doc.metadata)) {
      for (const [key, value] of Object.entries(doc.metadata)) {
        if (!isString(value)) return `metadata ${JSON.stringify(key)} is not a string`;
      }
      this.checkedMetadata.add(doc.metadata);
    }
    const ids = new Set<string>();
    const cells: unknown[] = doc.cells;
    for (let index = 0; index < cells.length; index++) {
      const cell = cells[index];
      let id = typeof cell === "object" && cell !== null ? this.checkedCells.get(cell) : undefined;
      if (id === undefined) {
        const problem = cellProblem(cell, isMap(cell) && Array.isArray(cell.outputs) && !this.checkedOutputs.has(cell.outputs));
        if (problem) return `cell ${index}: ${problem}`;
        const checked = cell as { id: unknown; outputs: object };
        id = plainString(checked.id);
        this.checkedCells.set(checked, id);
        this.checkedOutputs.add(checked.outputs);
      }
      if (ids.has(id)) return `cell ${index}: id ${JSON.stringify(id)} is used twice`;
      ids.add(id);
    }
    return undefined;
  }
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
