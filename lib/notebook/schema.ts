/**
 * The notebook document (DESIGN.md "Notebook document"): what every client and the daemon hold
 * in Automerge. Identifiers, types, outputs and metadata values are immutable strings
 * (last writer wins); only `source` is collaborative text, merged character by character.
 */
import * as Automerge from "@automerge/automerge";

export const SCHEMA_VERSION = 1;

export type CellType = "code" | "markdown" | "raw";

/** A cell as stored in the document. */
export interface CellRecord {
  id: Automerge.ImmutableString;
  cell_type: Automerge.ImmutableString;
  source: string;
  execution_count: number | null;
  /** JSON-encoded output manifests; written only by the daemon. */
  outputs: Automerge.ImmutableString[];
  metadata: Record<string, unknown>;
  /** Markdown/raw cell attachments (nbformat `attachments`), as JSON text, when present. */
  attachments?: Automerge.ImmutableString;
}

/** The whole notebook document. */
export interface NotebookDoc {
  schema_version: number;
  cells: CellRecord[];
  metadata: Record<string, Automerge.ImmutableString>;
}

/** A plain, detached copy of a cell, as read out of the document. */
export interface CellSnapshot {
  id: string;
  cellType: CellType;
  source: string;
  executionCount: number | null;
  /** JSON-encoded output manifests, in order. */
  outputs: string[];
  metadata: Record<string, unknown>;
  /** nbformat attachments (name -> MIME bundle), when the cell has them. */
  attachments?: unknown;
}

/** Document metadata key linking a room to its .ipynb file. */
export const NOTEBOOK_PATH_KEY = "runtimed.notebook_path";

// Every replica starts from the same genesis change: same actor, same time, same content, so
// two replicas that create "the" document independently produce one identical change and
// never end up with two competing `cells` lists.
const GENESIS_ACTOR = "00000000000000000000000000000000";
let genesisBytes: Uint8Array | undefined;

function genesis(): Uint8Array {
  if (!genesisBytes) {
    const doc = Automerge.change(
      Automerge.init<NotebookDoc>({ actor: GENESIS_ACTOR }),
      { time: 0, message: "genesis" },
      (draft) => {
        draft.schema_version = SCHEMA_VERSION;
        draft.cells = [];
        draft.metadata = {};
      },
    );
    genesisBytes = Automerge.save(doc);
  }
  return genesisBytes;
}

/** A new notebook document, owned by a fresh random actor. */
export function createNotebookDoc(): Automerge.Doc<NotebookDoc> {
  return Automerge.load<NotebookDoc>(genesis());
}

/** Loads a saved document, checking that it is a notebook. */
export function loadNotebookDoc(bytes: Uint8Array): Automerge.Doc<NotebookDoc> {
  const doc = Automerge.load<NotebookDoc>(bytes);
  if (!Array.isArray(doc.cells) || typeof doc.metadata !== "object" || doc.metadata === null) {
    throw new Error("not a runtimed notebook document (no cells list or metadata map)");
  }
  return doc;
}

/** Reads a value that may be stored as text or as an immutable string. */
export function plainString(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Automerge.ImmutableString) return value.val;
  if (value === undefined || value === null) return "";
  return String(value);
}
