import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  insertCell,
  readAllNotebookMetadata,
  readCells,
  setCellExtras,
  setCellOutputs,
  setExecutionCount,
  setNotebookMetadata,
  removeCell,
} from "../notebook/cells";

/** Document metadata key holding the sha256 of the file as last loaded or saved. */
const FILE_HASH_KEY = "runtimed.file_sha256";
import { cellsToIpynb, ipynbToCells, parseIpynb, serializeIpynb, type IpynbNotebook } from "../notebook/ipynb";
import { NOTEBOOK_PATH_KEY, type NotebookDoc } from "../notebook/schema";
import { decodeManifest, encodeManifest, fromManifest, toManifest } from "../outputs/manifest";
import { RuntimedError } from "../protocol/errors";
import type { BlobStore } from "./blob-store";
import type { RoomDocument } from "./room-document";

/**
 * A room's link to its .ipynb file: loads the file into an empty document and writes the
 * document back, losslessly (the parsed file is kept as the template of the next save).
 */
export class NotebookFile {
  private template: IpynbNotebook | undefined;

  constructor(
    private readonly document: RoomDocument,
    private readonly blobs: BlobStore,
  ) {}

  /** The linked path, from the document (so the link survives daemon restarts). */
  get linkedPath(): string | null {
    return readAllNotebookMetadata(this.document.doc)[NOTEBOOK_PATH_KEY] ?? null;
  }

  /**
   * Links the room to `file` and loads it when the room has no cells yet. With
   * `reloadIfChanged` (no one else is in the room), a file changed on disk since it was last
   * loaded or saved replaces the room's cells, so what runs is what the file says.
   */
  open(file: string, options: { reloadIfChanged?: boolean } = {}): { path: string; loaded: boolean; cells: number } {
    const absolute = path.resolve(file);
    let loaded = false;
    if (fs.existsSync(absolute)) {
      const text = readFile(absolute);
      const empty = this.document.doc.cells.length === 0;
      const changedOnDisk = readAllNotebookMetadata(this.document.doc)[FILE_HASH_KEY] !== sha256(text);
      if (empty || (options.reloadIfChanged && changedOnDisk)) {
        const notebook = parseIpynb(text);
        this.load(notebook, sha256(text));
        this.template = notebook;
        loaded = true;
      }
    }
    if (this.linkedPath !== absolute) this.document.change(`link ${absolute}`, (draft) => setNotebookMetadata(draft, NOTEBOOK_PATH_KEY, absolute));
    return { path: absolute, loaded, cells: this.document.doc.cells.length };
  }

  /** Writes the document as nbformat 4 to `file` (default: the linked path). */
  async save(file?: string): Promise<{ path: string }> {
    const target = file ? path.resolve(file) : this.linkedPath;
    if (!target) throw new RuntimedError("BAD_REQUEST", "This notebook is not linked to a file; pass a path to save it to");
    const template = this.template ?? this.templateFrom(target);
    const doc = this.document.doc;
    const source = this.blobs.asSource();
    const cells = await Promise.all(
      readCells(doc).map(async (cell) => ({
        id: cell.id,
        cellType: cell.cellType,
        source: cell.source,
        executionCount: cell.executionCount,
        outputs: await Promise.all(cell.outputs.map((encoded) => fromManifest(decodeManifest(encoded), source))),
        metadata: cell.metadata,
        ...(cell.attachments !== undefined ? { attachments: cell.attachments } : {}),
      })),
    );
    const notebook = cellsToIpynb({ metadata: readAllNotebookMetadata(doc), cells }, template);
    const text = serializeIpynb(notebook);
    const temp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text);
    fs.renameSync(temp, target);
    this.template = notebook;
    if (target === this.linkedPath) this.document.change(`saved ${target}`, (draft) => setNotebookMetadata(draft, FILE_HASH_KEY, sha256(text)));
    return { path: target };
  }

  private load(notebook: IpynbNotebook, fileHash: string): void {
    const data = ipynbToCells(notebook);
    this.document.change("open notebook file", (draft: NotebookDoc) => {
      for (let index = draft.cells.length - 1; index >= 0; index--) removeCell(draft, index);
      for (const [key, value] of Object.entries(data.metadata)) setNotebookMetadata(draft, key, value);
      setNotebookMetadata(draft, FILE_HASH_KEY, fileHash);
      for (const cell of data.cells) {
        const index = insertCell(draft, { id: cell.id, cellType: cell.cellType, source: cell.source });
        setCellExtras(draft, index, cell.metadata, cell.attachments);
        setExecutionCount(draft, index, cell.executionCount);
        setCellOutputs(draft, index, cell.outputs.map((output) => encodeManifest(toManifest(output, this.blobs))));
      }
    });
  }

  private templateFrom(target: string): IpynbNotebook | undefined {
    // After a daemon restart the file on disk is the best template for its own exact form.
    if (target !== this.linkedPath || !fs.existsSync(target)) return undefined;
    try {
      return parseIpynb(readFile(target));
    } catch {
      return undefined;
    }
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

// A notebook file bigger than this is refused rather than read into the daemon's memory.
const MAX_NOTEBOOK_BYTES = 1024 * 1024 * 1024;

function readFile(file: string): string {
  try {
    const stat = fs.statSync(file);
    // A FIFO or a device would block or flood the daemon.
    if (!stat.isFile()) throw new Error("not a regular file");
    if (stat.size > MAX_NOTEBOOK_BYTES) throw new Error(`larger than ${MAX_NOTEBOOK_BYTES} bytes`);
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new RuntimedError("BAD_REQUEST", `Cannot read notebook ${file}: ${(error as Error).message}`);
  }
}
