import { Subject, type Observable } from "rxjs";
import type { NotebookDoc } from "../notebook/schema";
import { readCellOutputs } from "../notebook/cells";
import type { ExecutionResult, Output } from "./types";

interface Entry {
  executionCount: number | null;
  outputs: Output[];
  /** The cell's stored outputs and count when the result arrived: once they change, the document has caught up. */
  storedAtResult: { outputs: string[]; executionCount: number | null } | undefined;
}

/**
 * The daemon tells a session an execution is done before the document holds its outputs (the
 * Automerge write follows at once, off the path to the result). Until it does, reads of that cell
 * show the result's outputs and execution count, so `getCell()` right after `executeCell()` is
 * never stale. An entry goes as soon as the cell's stored outputs change.
 */
export class ResultOverlay {
  private readonly byCell = new Map<string, Entry>();
  private readonly notedSubject = new Subject<void>();

  /** Emits when a result changed what reads show (before the document has it). */
  readonly noted$: Observable<void> = this.notedSubject.asObservable();

  /** A result this session received, with the document as it is now. */
  note(result: ExecutionResult, doc: NotebookDoc): void {
    const stored = readCellOutputs(doc, result.cellId);
    if (stored === undefined) return;
    this.byCell.set(result.cellId, { executionCount: result.executionCount, outputs: result.outputs, storedAtResult: stored });
    this.notedSubject.next();
  }

  /**
   * Forgets every entry: a new connection (the daemon may have restarted and lost writes it had
   * not made yet), so reads show what the daemon's document says.
   */
  clear(): void {
    if (this.byCell.size === 0) return;
    this.byCell.clear();
    this.notedSubject.next();
  }

  complete(): void {
    this.notedSubject.complete();
  }

  /** What a read of `cellId` shows instead of the document's record, if the document has not caught up. */
  lookup(cellId: string, doc: NotebookDoc): { executionCount: number | null; outputs: Output[] } | undefined {
    const entry = this.byCell.get(cellId);
    if (!entry) return undefined;
    if (this.caughtUp(cellId, entry, doc)) {
      this.byCell.delete(cellId);
      return undefined;
    }
    return entry;
  }

  /** Drops the entries the document has caught up with (after a change from the daemon). */
  prune(doc: NotebookDoc): void {
    for (const [cellId, entry] of this.byCell) if (this.caughtUp(cellId, entry, doc)) this.byCell.delete(cellId);
  }

  get size(): number {
    return this.byCell.size;
  }

  private caughtUp(cellId: string, entry: Entry, doc: NotebookDoc): boolean {
    const now = readCellOutputs(doc, cellId);
    const before = entry.storedAtResult;
    if (now === undefined || before === undefined) return true;
    return now.executionCount !== before.executionCount || now.outputs.length !== before.outputs.length || now.outputs.some((manifest, i) => manifest !== before.outputs[i]);
  }
}
