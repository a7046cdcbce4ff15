import type * as nbformat from "@jupyterlab/nbformat";
import { findCellIndex, readCellAt, setCellOutputs } from "../notebook/cells";
import { decodeManifest, encodeManifest, fromManifest, toManifest } from "../outputs/manifest";
import type { Broadcast } from "../protocol/messages";
import type { BlobStore } from "./blob-store";
import type { Execution } from "./execution";
import type { RoomDocument } from "./room-document";

/**
 * Which cells of a room show which `display_id`, at which output indices, so that an
 * `update_display_data` reaches every cell showing that display: the running cell live, the
 * others by rewriting their stored outputs (and telling clients).
 */
export class RoomDisplays {
  /** display id -> cell id -> output indices */
  private readonly shown = new Map<string, Map<string, Set<number>>>();

  constructor(
    private readonly document: RoomDocument,
    private readonly blobs: BlobStore,
    private readonly broadcast: (message: Broadcast) => void,
    private readonly warn: (message: string, fields: Record<string, unknown>) => void,
  ) {}

  note(displayId: string, cellId: string, index: number): void {
    let cells = this.shown.get(displayId);
    if (!cells) this.shown.set(displayId, (cells = new Map()));
    let indices = cells.get(cellId);
    if (!indices) cells.set(cellId, (indices = new Set()));
    indices.add(index);
  }

  /** The cell's outputs are gone (cleared, re-run, deleted). */
  forget(cellId: string): void {
    for (const [displayId, cells] of this.shown) {
      cells.delete(cellId);
      if (cells.size === 0) this.shown.delete(displayId);
    }
  }

  /** Applies an update of `displayId` made by `exceptCellId`'s execution to every other cell showing it. */
  update(displayId: string, content: Record<string, unknown>, exceptCellId: string, running: Execution | undefined): void {
    const data = (content.data ?? {}) as Record<string, unknown>;
    const metadata = (content.metadata ?? {}) as Record<string, unknown>;
    for (const [cellId, indices] of this.shown.get(displayId) ?? []) {
      if (cellId === exceptCellId) continue;
      if (running?.cellId === cellId) running.updateDisplay(displayId, data, metadata);
      else {
        this.rewriteStored(cellId, [...indices], data, metadata).catch((error: unknown) =>
          this.warn("could not update a display in another cell", { cell_id: cellId, display_id: displayId, error: String(error) }),
        );
      }
    }
  }

  /** Rewrites a display shown by a cell that is not running, in the document and live. */
  private async rewriteStored(cellId: string, indices: number[], data: Record<string, unknown>, metadata: Record<string, unknown>): Promise<void> {
    if (findCellIndex(this.document.doc, cellId) < 0) return this.forget(cellId);
    const stored = readCellAt(this.document.doc, findCellIndex(this.document.doc, cellId)).outputs;
    const updates: { at: number; live: string; stored: string }[] = [];
    for (const at of indices) {
      const encoded = stored[at];
      if (encoded === undefined) continue;
      const output = await fromManifest(decodeManifest(encoded), this.blobs.asSource());
      if (output.output_type !== "display_data" && output.output_type !== "execute_result") continue;
      const updated = { ...output, data, metadata } as nbformat.IOutput;
      updates.push({ at, live: encodeManifest(toManifest(updated)), stored: encodeManifest(toManifest(updated, this.blobs)) });
    }
    // The document may have moved on while blobs were read: find the cell again.
    const index = findCellIndex(this.document.doc, cellId);
    if (updates.length === 0 || index < 0) return;
    const outputs = readCellAt(this.document.doc, index).outputs;
    for (const { at, stored: encoded } of updates) if (at < outputs.length) outputs[at] = encoded;
    this.document.change(`display update ${cellId}`, (draft) => setCellOutputs(draft, index, outputs));
    for (const { at, live } of updates) this.broadcast({ event: "display_update", cell_id: cellId, index: at, output: live });
  }
}
