/**
 * Between a parsed .ipynb and the runtimed document. Notebook metadata travels as JSON text in
 * the document's string-valued metadata (key `notebook_metadata`, the convention env detection
 * reads too) with `nbformat_minor` beside it. On the way back, whatever the document did not
 * change is taken from the notebook it was opened from (the template) exactly as the file had
 * it, so an unchanged notebook is written byte for byte as it was read.
 */
import type * as nbformat from "@jupyterlab/nbformat";
import { RuntimedError } from "../protocol/errors";
import type { IpynbNotebook } from "./ipynb";
import {
  dumpJsonLikePython,
  parseJsonPreservingNumbers,
  type JsonObject,
  type JsonValue,
  type NumberLiterals,
} from "./ipynb-json";
import { isObject, joinLines, mapAttachments, rejoinMimeBundle, rejoinOutput, splitLines, splitMimeBundle, splitOutput } from "./ipynb-lines";
import type { CellType } from "./schema";

/** Document metadata key holding the nbformat notebook metadata as JSON text. */
export const NOTEBOOK_METADATA_KEY = "notebook_metadata";
/** Document metadata key holding the nbformat minor version (`"5"`). */
export const NBFORMAT_MINOR_KEY = "nbformat_minor";

/** One cell as it goes into, or comes out of, the runtimed document. */
export interface IpynbCellData {
  id: string;
  cellType: CellType;
  /** The whole source as one string. */
  source: string;
  executionCount: number | null;
  /** nbformat outputs; from `ipynbToCells` exactly as the file had them (line lists too). */
  outputs: readonly nbformat.IOutput[];
  metadata: Record<string, unknown>;
  /** Markdown and raw cells' attachments (name → MIME bundle), when the cell has them. */
  attachments?: unknown;
}

/** A notebook as the runtimed document holds it: string-valued metadata and cells. */
export interface IpynbDocumentData {
  metadata: Record<string, string>;
  cells: IpynbCellData[];
}

// Transient keys nbformat's writer drops (`strip_transient`).
const TRANSIENT_NOTEBOOK_KEYS = ["orig_nbformat", "orig_nbformat_minor", "signature"];
const TRANSIENT_CELL_KEYS = ["trusted"];
const DEFAULT_NBFORMAT_MINOR = 5;
const CELL_FIELDS = new Set(["id", "cell_type", "source", "metadata", "attachments", "outputs", "execution_count"]);

/**
 * What the runtimed document should hold for a parsed notebook. Metadata, outputs and
 * attachments are the notebook's own objects, not copies: copy them before changing them.
 */
export function ipynbToCells(notebook: IpynbNotebook): IpynbDocumentData {
  const { content } = notebook;
  const metadata = content.metadata as JsonObject;
  const cells = (content.cells as JsonObject[]).map((cell, index): IpynbCellData => {
    const isCode = cell.cell_type === "code";
    const data: IpynbCellData = {
      id: notebook.cellIds[index]!,
      cellType: cell.cell_type as CellType,
      source: joinLines(cell.source) as string,
      executionCount: isCode && typeof cell.execution_count === "number" ? cell.execution_count : null,
      outputs: isCode && Array.isArray(cell.outputs) ? (cell.outputs as unknown as nbformat.IOutput[]) : [],
      metadata: isObject(cell.metadata) ? cell.metadata : {},
    };
    if (cell.attachments !== undefined) data.attachments = cell.attachments;
    return data;
  });
  return {
    metadata: {
      [NOTEBOOK_METADATA_KEY]: dumpJsonLikePython(metadata, { numberLiterals: literalsUnder(notebook.numberLiterals, "/metadata") }),
      [NBFORMAT_MINOR_KEY]: String(content.nbformat_minor),
    },
    cells,
  };
}

/**
 * The notebook to write for the document's current state. With `template` (the notebook the
 * document was opened from, or last saved as), everything unchanged keeps the template's exact
 * form: line lists or strings, output fields the document does not hold, unknown keys, float
 * literals, cells without ids. Everything new is written as nbformat writes it.
 */
export function cellsToIpynb(document: IpynbDocumentData, template?: IpynbNotebook): IpynbNotebook {
  const templateContent = template?.content;
  const templateCells = (templateContent?.cells ?? []) as JsonObject[];
  const templateIndexById = new Map(template?.cellIds.map((id, index) => [id, index]));
  const numberLiterals = new Map<string, string>();

  const content: JsonObject = { ...(templateContent ?? {}) };
  content.nbformat = 4;
  content.nbformat_minor = nbformatMinor(document.metadata[NBFORMAT_MINOR_KEY], templateContent?.nbformat_minor);
  const metadata = notebookMetadata(document.metadata[NOTEBOOK_METADATA_KEY], template);
  content.metadata = metadata.value;
  for (const [pointer, literal] of metadata.literals) numberLiterals.set(`/metadata${pointer}`, literal);
  if (template) {
    for (const [pointer, literal] of template.numberLiterals) {
      if (!pointer.startsWith("/cells/") && !pointer.startsWith("/metadata/")) numberLiterals.set(pointer, literal);
    }
  }

  const literalsByTemplateCell = template ? literalsByCell(template.numberLiterals) : new Map<number, [string, string][]>();
  content.cells = document.cells.map((cell, index) => {
    const templateIndex = templateIndexById.get(cell.id);
    const base = templateIndex === undefined ? undefined : templateCells[templateIndex];
    for (const [suffix, literal] of (templateIndex !== undefined && literalsByTemplateCell.get(templateIndex)) || []) {
      numberLiterals.set(`/cells/${index}${suffix}`, literal);
    }
    return writeCell(cell, base, content.nbformat_minor as number);
  });
  return { content, cellIds: document.cells.map((cell) => cell.id), numberLiterals };
}

function writeCell(cell: IpynbCellData, base: JsonObject | undefined, minor: number): JsonObject {
  const written: JsonObject = {};
  // Keys the document does not know (a future nbformat's, a tool's) survive from the template.
  for (const [key, value] of Object.entries(base ?? {})) if (!CELL_FIELDS.has(key)) written[key] = value;
  // nbformat 4.5 made ids required; a 4.4 notebook's cells have none and are written without.
  if (base?.id !== undefined) written.id = base.id;
  else if (minor >= 5) written.id = cell.id;
  written.cell_type = cell.cellType;

  const baseSource = base?.source;
  if (baseSource !== undefined && joinLines(baseSource) === cell.source) written.source = baseSource;
  else written.source = typeof baseSource === "string" ? cell.source : splitLines(cell.source);

  const cellMetadata = withoutKeys(toJson(cell.metadata ?? {}) as JsonObject, TRANSIENT_CELL_KEYS);
  written.metadata = base && jsonEqual(base.metadata, cellMetadata) ? base.metadata! : cellMetadata;

  if (cell.attachments !== undefined) {
    const attachments = toJson(cell.attachments);
    const same = base?.attachments !== undefined && jsonEqual(mapAttachments(base.attachments, rejoinMimeBundle), mapAttachments(attachments, rejoinMimeBundle));
    written.attachments = same ? base!.attachments! : mapAttachments(attachments, splitMimeBundle)!;
  }
  if (cell.cellType === "code") {
    const outputs = cell.outputs.map((output) => toJson(output) as JsonObject);
    const baseOutputs = base?.cell_type === "code" && Array.isArray(base.outputs) ? (base.outputs as JsonObject[]) : undefined;
    written.outputs = baseOutputs && outputsMatch(baseOutputs, outputs) ? baseOutputs : outputs.map(splitOutput);
    written.execution_count = cell.executionCount;
  }
  return written;
}

/**
 * Whether the document's outputs are the template's: the same outputs once line lists are
 * joined, comparing the fields the document holds (an output may carry more in the file).
 */
function outputsMatch(templateOutputs: JsonObject[], outputs: JsonObject[]): boolean {
  if (templateOutputs.length !== outputs.length) return false;
  return outputs.every((output, index) => {
    const expected = rejoinOutput(templateOutputs[index]!);
    const actual = rejoinOutput(output);
    return Object.keys(actual).every((key) => jsonEqual(expected[key], actual[key]));
  });
}

function notebookMetadata(text: string | undefined, template: IpynbNotebook | undefined): { value: JsonObject; literals: NumberLiterals } {
  const templateMetadata = template?.content.metadata as JsonObject | undefined;
  const templateLiterals = template ? literalsUnder(template.numberLiterals, "/metadata") : new Map<string, string>();
  if (text === undefined) {
    return { value: withoutKeys(templateMetadata ?? {}, TRANSIENT_NOTEBOOK_KEYS), literals: templateLiterals };
  }
  let parsed;
  try {
    parsed = parseJsonPreservingNumbers(text);
  } catch (error) {
    throw new RuntimedError("BAD_REQUEST", `The notebook's ${NOTEBOOK_METADATA_KEY} metadata is not JSON; set it to a JSON object`, { cause: error });
  }
  if (!isObject(parsed.value)) {
    throw new RuntimedError("BAD_REQUEST", `The notebook's ${NOTEBOOK_METADATA_KEY} metadata is not a JSON object; set it to one`);
  }
  const value = withoutKeys(parsed.value, TRANSIENT_NOTEBOOK_KEYS);
  if (templateMetadata && jsonEqual(templateMetadata, value)) return { value: templateMetadata, literals: templateLiterals };
  // A client that edits the JSON with JSON.parse/stringify turns `1.0` into `1`; where the value
  // at a path is still the template's, the template's literal comes back (the writer checks).
  return { value, literals: new Map([...templateLiterals, ...parsed.numberLiterals]) };
}

function nbformatMinor(text: string | undefined, templateMinor: JsonValue | undefined): number {
  if (text !== undefined && /^[0-9]+$/.test(text)) return Number(text);
  return typeof templateMinor === "number" ? templateMinor : DEFAULT_NBFORMAT_MINOR;
}

/** Template literals grouped by cell index, with pointers relative to the cell. */
function literalsByCell(literals: NumberLiterals): Map<number, [string, string][]> {
  const byCell = new Map<number, [string, string][]>();
  for (const [pointer, literal] of literals) {
    const match = /^\/cells\/([0-9]+)(\/.*)$/.exec(pointer);
    if (!match) continue;
    const index = Number(match[1]);
    if (!byCell.has(index)) byCell.set(index, []);
    byCell.get(index)!.push([match[2]!, literal]);
  }
  return byCell;
}

function literalsUnder(literals: NumberLiterals, prefix: string): Map<string, string> {
  const under = new Map<string, string>();
  for (const [pointer, literal] of literals) {
    if (pointer.startsWith(`${prefix}/`)) under.set(pointer.slice(prefix.length), literal);
  }
  return under;
}

function withoutKeys(object: JsonObject, keys: readonly string[]): JsonObject {
  if (!keys.some((key) => key in object)) return object;
  const copy = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}

/** A plain JSON copy (drops `undefined`, applies `toJSON`, as storing it as JSON would). */
function toJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b || Object.is(a, b)) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
}
