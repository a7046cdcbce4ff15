import { readCellAt } from "../notebook/cells";
import { plainString, type NotebookDoc } from "../notebook/schema";
import type { OutputDecoder } from "./output-decoder";
import type { Cell, Output } from "./types";

/** Decoded outputs kept beyond those of the current cells before a sweep drops the rest. */
const MIN_SWEEP_SIZE = 256;

/**
 * The cells users read (`getCells`, `getCell`, `cells$`), rebuilt only where the document
 * changed. Automerge keeps the objects of unchanged cells from one version of the document to the
 * next (local or remote changes, inserts, deletes and moves alike), so a cell is kept by its
 * record object; decoded outputs are kept by manifest, so an edit to a cell's source does not
 * decode its outputs again. Cells are shared between reads, so they are frozen (deeply): holding
 * one is safe, changing one throws. A cell with a payload still being fetched is not kept: it is
 * read again until it is whole.
 */
export class CellCache {
  private readonly byRecord = new WeakMap<object, Cell>();
  private readonly outputsByManifest = new Map<string, Output>();
  private readonly indexesByList = new WeakMap<object, Map<string, number>>();
  private sweepAbove = MIN_SWEEP_SIZE;

  constructor(private readonly decoder: Pick<OutputDecoder, "decodeWhole">) {}

  /** Every cell of `doc`, in order (a new array; the cells in it may be shared). */
  cells(doc: NotebookDoc): Cell[] {
    const cells: Cell[] = new Array<Cell>(doc.cells.length);
    for (let index = 0; index < doc.cells.length; index++) cells[index] = this.cellAt(doc, index);
    if (this.outputsByManifest.size > this.sweepAbove) this.sweep(doc);
    return cells;
  }

  /** The cell with this id, or undefined. */
  cell(doc: NotebookDoc, cellId: string): Cell | undefined {
    const index = this.indexOf(doc, cellId);
    return index < 0 ? undefined : this.cellAt(doc, index);
  }

  /** The index of the first cell with this id, or -1 (one pass per version of the cell list, then a lookup). */
  indexOf(doc: NotebookDoc, cellId: string): number {
    const list = doc.cells;
    let indexes = this.indexesByList.get(list);
    if (!indexes) {
      indexes = new Map();
      for (let index = 0; index < list.length; index++) {
        const id = plainString(list[index]!.id);
        if (!indexes.has(id)) indexes.set(id, index);
      }
      this.indexesByList.set(list, indexes);
    }
    return indexes.get(cellId) ?? -1;
  }

  /** The cell at `index`. */
  cellAt(doc: NotebookDoc, index: number): Cell {
    const record = doc.cells[index]!;
    const kept = this.byRecord.get(record);
    if (kept) return kept;
    const snapshot = readCellAt(doc, index);
    let whole = true;
    const outputs = snapshot.outputs.map((manifest) => {
      const decoded = this.output(manifest);
      whole &&= decoded.whole;
      return decoded.output;
    });
    const cell: Cell = { ...snapshot, outputs: Object.freeze(outputs) as Output[], metadata: deepFreeze(snapshot.metadata) };
    if ("attachments" in snapshot) deepFreeze(snapshot.attachments);
    Object.freeze(cell);
    if (whole) this.byRecord.set(record, cell);
    return cell;
  }

  private output(manifest: string): { output: Output; whole: boolean } {
    const kept = this.outputsByManifest.get(manifest);
    if (kept) return { output: kept, whole: true };
    const { output, whole } = this.decoder.decodeWhole(manifest);
    deepFreeze(output);
    if (whole) this.outputsByManifest.set(manifest, output);
    return { output, whole };
  }

  /** Drops the decoded outputs no cell of `doc` shows; runs again once as many more have come. */
  private sweep(doc: NotebookDoc): void {
    const shown = new Set<string>();
    for (const record of doc.cells) for (const manifest of record.outputs) shown.add(plainString(manifest));
    for (const manifest of this.outputsByManifest.keys()) if (!shown.has(manifest)) this.outputsByManifest.delete(manifest);
    this.sweepAbove = Math.max(MIN_SWEEP_SIZE, 2 * this.outputsByManifest.size);
  }
}

/**
 * Whether two cell lists show the same: cells kept by the cache are compared by identity, the
 * others (changed, or shown with a result the document does not hold yet) field by field.
 */
export function sameCells(a: readonly Cell[], b: readonly Cell[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (!sameCell(a[index]!, b[index]!)) return false;
  return true;
}

/** Whether two cells show the same (outputs compared by identity first: the cache shares unchanged ones). */
export function sameCell(a: Cell, b: Cell): boolean {
  if (a === b) return true;
  if (a.id !== b.id || a.cellType !== b.cellType || a.source !== b.source || a.executionCount !== b.executionCount) return false;
  if (a.outputs.length !== b.outputs.length) return false;
  for (let index = 0; index < a.outputs.length; index++) {
    const one = a.outputs[index];
    const other = b.outputs[index];
    if (one !== other && JSON.stringify(one) !== JSON.stringify(other)) return false;
  }
  return sameJson(a.metadata, b.metadata) && sameJson((a as { attachments?: unknown }).attachments, (b as { attachments?: unknown }).attachments);
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Freezes a JSON-like value and everything in it; returns it. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const inner of Object.values(value as object)) deepFreeze(inner);
  return value;
}
