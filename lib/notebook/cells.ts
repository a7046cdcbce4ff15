/**
 * Pure operations over the notebook document. Writers take an Automerge draft (inside
 * `Automerge.change`) so callers batch them into one change; readers take a document.
 */
import { v4 as randomUUID } from "uuid";
import * as Automerge from "@automerge/automerge";
import { RuntimedError } from "../protocol/errors";
import { plainString, type CellRecord, type CellSnapshot, type CellType, type NotebookDoc } from "./schema";

const cellTypes: readonly CellType[] = ["code", "markdown", "raw"];

/** A fresh cell id: `cell-<uuid>`, as runtimed makes them. */
export function newCellId(): string {
  return `cell-${randomUUID()}`;
}

/** Checks a cell type given by a user. */
export function checkCellType(cellType: string): CellType {
  if (!cellTypes.includes(cellType as CellType)) {
    throw new RuntimedError("BAD_REQUEST", `Unknown cell type ${JSON.stringify(cellType)}; use one of ${cellTypes.join(", ")}`);
  }
  return cellType as CellType;
}

/** The index of a cell, or -1. */
export function findCellIndex(doc: NotebookDoc, cellId: string): number {
  const cells = doc.cells;
  for (let i = 0; i < cells.length; i++) {
    if (plainString(cells[i]!.id) === cellId) return i;
  }
  return -1;
}

/** The index of a cell; throws CELL_NOT_FOUND naming the cell when it is absent. */
export function requireCellIndex(doc: NotebookDoc, cellId: string, notebookId: string): number {
  const index = findCellIndex(doc, cellId);
  if (index < 0) throw cellNotFound(cellId, notebookId);
  return index;
}

/** The error for a cell id that is not in the notebook. */
export function cellNotFound(cellId: string, notebookId: string): RuntimedError {
  return new RuntimedError("CELL_NOT_FOUND", `No cell ${cellId} in notebook ${notebookId}`);
}

/** Inserts a cell at `index` (clamped; appended when absent). Returns the index used. */
export function insertCell(
  draft: NotebookDoc,
  cell: { id: string; cellType: CellType; source: string },
  index?: number,
): number {
  const at = index === undefined ? draft.cells.length : Math.max(0, Math.min(Math.trunc(index), draft.cells.length));
  const record: CellRecord = {
    id: new Automerge.ImmutableString(cell.id),
    cell_type: new Automerge.ImmutableString(cell.cellType),
    source: "",
    execution_count: null,
    outputs: [],
    metadata: {},
  };
  draft.cells.splice(at, 0, record);
  if (cell.source.length > 0) Automerge.splice(draft, ["cells", at, "source"], 0, 0, cell.source);
  return at;
}

/** Replaces a cell's source, as the smallest character-level edit, so concurrent edits merge. */
export function setCellSource(draft: NotebookDoc, index: number, source: string): void {
  Automerge.updateText(draft, ["cells", index, "source"], source);
}

/** Removes a cell. */
export function removeCell(draft: NotebookDoc, index: number): void {
  draft.cells.splice(index, 1);
}

/** Changes a cell's type; its source, outputs and metadata stay as they are. */
export function setCellType(draft: NotebookDoc, index: number, cellType: CellType): void {
  draft.cells[index]!.cell_type = new Automerge.ImmutableString(cellType);
}

/**
 * Moves a cell so that it ends up at `to` (clamped) in the list; returns the index used.
 * Automerge lists have no move: the cell is copied to its new place and the old one removed,
 * so an edit another client makes to this cell at the same moment is lost, and two clients
 * moving the same cell at once leave two copies of it.
 */
export function moveCell(draft: NotebookDoc, from: number, to: number): number {
  const target = Math.max(0, Math.min(Math.trunc(to), draft.cells.length - 1));
  if (target === from) return from;
  const cell = readCellAt(draft, from);
  removeCell(draft, from);
  const index = insertCell(draft, { id: cell.id, cellType: cell.cellType, source: cell.source }, target);
  setCellExtras(draft, index, cell.metadata, cell.attachments);
  setExecutionCount(draft, index, cell.executionCount);
  setCellOutputs(draft, index, cell.outputs);
  return index;
}

/** Sets a notebook-level metadata value (a string, JSON by convention). */
export function setNotebookMetadata(draft: NotebookDoc, key: string, value: string): void {
  draft.metadata[key] = new Automerge.ImmutableString(value);
}

/** Removes a notebook-level metadata value. */
export function deleteNotebookMetadata(draft: NotebookDoc, key: string): void {
  delete draft.metadata[key];
}

/** Replaces a cell's outputs (daemon only). */
export function setCellOutputs(draft: NotebookDoc, index: number, outputs: readonly string[]): void {
  const current = draft.cells[index]!.outputs;
  const before = current.length;
  const common = Math.min(before, outputs.length);
  // Overwrite in place what changed (a running cell usually rewrites its last output): one put
  // per output is several times cheaper in Automerge than deleting and inserting it again.
  for (let i = 0; i < common; i++) {
    if (plainString(current[i]) !== outputs[i]) current[i] = new Automerge.ImmutableString(outputs[i]!);
  }
  if (before > outputs.length) current.splice(outputs.length, before - outputs.length);
  for (let i = common; i < outputs.length; i++) current.push(new Automerge.ImmutableString(outputs[i]!));
}

/** Replaces a cell's metadata and attachments (loading a notebook file). */
export function setCellExtras(draft: NotebookDoc, index: number, metadata: Record<string, unknown>, attachments?: unknown): void {
  const cell = draft.cells[index]!;
  cell.metadata = JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
  if (attachments === undefined) delete cell.attachments;
  else cell.attachments = new Automerge.ImmutableString(JSON.stringify(attachments));
}

/** Sets a cell's execution count (daemon only). */
export function setExecutionCount(draft: NotebookDoc, index: number, executionCount: number | null): void {
  draft.cells[index]!.execution_count = executionCount;
}

/** A detached copy of one cell. */
export function readCellAt(doc: NotebookDoc, index: number): CellSnapshot {
  const cell = doc.cells[index]!;
  const snapshot: CellSnapshot = {
    id: plainString(cell.id),
    cellType: plainString(cell.cell_type) as CellType,
    source: plainString(cell.source),
    executionCount: typeof cell.execution_count === "number" ? cell.execution_count : null,
    outputs: cell.outputs.map(plainString),
    metadata: JSON.parse(JSON.stringify(cell.metadata ?? {})) as Record<string, unknown>,
  };
  if (cell.attachments !== undefined) snapshot.attachments = JSON.parse(plainString(cell.attachments)) as unknown;
  return snapshot;
}

/** A detached copy of one cell, or undefined. */
export function readCell(doc: NotebookDoc, cellId: string): CellSnapshot | undefined {
  const index = findCellIndex(doc, cellId);
  return index < 0 ? undefined : readCellAt(doc, index);
}

/** A cell's source and type, read without copying the rest of the cell. */
export function readCellCode(doc: NotebookDoc, index: number): { source: string; cellType: CellType } {
  const cell = doc.cells[index]!;
  return { source: plainString(cell.source), cellType: plainString(cell.cell_type) as CellType };
}

/** A cell's output manifests and execution count as stored (cheap: nothing else is read), or undefined. */
export function readCellOutputs(doc: NotebookDoc, cellId: string): { outputs: string[]; executionCount: number | null } | undefined {
  const index = findCellIndex(doc, cellId);
  if (index < 0) return undefined;
  const cell = doc.cells[index]!;
  return { outputs: cell.outputs.map(plainString), executionCount: typeof cell.execution_count === "number" ? cell.execution_count : null };
}

/** Detached copies of every cell, in order. */
export function readCells(doc: NotebookDoc): CellSnapshot[] {
  const cells: CellSnapshot[] = [];
  for (let i = 0; i < doc.cells.length; i++) cells.push(readCellAt(doc, i));
  return cells;
}

/** Reads a notebook-level metadata value. */
export function readNotebookMetadata(doc: NotebookDoc, key: string): string | undefined {
  const value = doc.metadata[key];
  return value === undefined ? undefined : plainString(value);
}

/** Every notebook-level metadata value. */
export function readAllNotebookMetadata(doc: NotebookDoc): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.metadata)) out[key] = plainString(value);
  return out;
}
