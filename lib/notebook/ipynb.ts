/**
 * The .ipynb codec (nbformat 4): reads a notebook keeping everything in it, and writes it back
 * byte for byte the way Jupyter's nbformat writes (`json.dumps(nb, sort_keys=True, indent=1,
 * ensure_ascii=False) + "\n"`). Pure functions, no I/O. Mapping to and from the runtimed
 * document lives in `ipynb-cells.ts` and is re-exported here.
 */
import { v4 as randomUUID } from "uuid";
import { RuntimedError } from "../protocol/errors";
import { dumpJsonLikePython, parseJsonPreservingNumbers, type JsonObject, type NumberLiterals } from "./ipynb-json";
import { isObject } from "./ipynb-lines";

export { cellsToIpynb, ipynbToCells, NOTEBOOK_METADATA_KEY, NBFORMAT_MINOR_KEY } from "./ipynb-cells";
export type { IpynbCellData, IpynbDocumentData } from "./ipynb-cells";

/**
 * A parsed notebook. `content` is the file's JSON as written (every key; sources, stream text
 * and MIME values as strings or line lists, whichever the file had); `serializeIpynb` writes
 * it out unchanged in nbformat's layout.
 */
export interface IpynbNotebook {
  /** The notebook JSON: `{nbformat: 4, nbformat_minor, metadata, cells, ...}`. */
  content: JsonObject;
  /**
   * The runtimed document id of each cell, in order: the cell's own `id`, or a fresh
   * `cell-<uuid>` when it has none (nbformat < 4.5) or repeats an earlier one.
   */
  cellIds: string[];
  /** How Python writes numbers a JS number cannot say (`1.0`, `-0.0`), by JSON pointer into `content`. */
  numberLiterals: NumberLiterals;
}

const CELL_TYPES = new Set(["code", "markdown", "raw"]);
const OUTPUT_TYPES = new Set(["stream", "display_data", "execute_result", "error"]);

/**
 * Parses .ipynb text. Only nbformat 4 (any minor) is accepted; anything else, or a notebook
 * that does not have nbformat 4's shape, is a BAD_REQUEST naming what is wrong.
 */
export function parseIpynb(text: string): IpynbNotebook {
  const parsed = parseJsonPreservingNumbers(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const content = parsed.value;
  if (!isObject(content)) throw notANotebook("the file is JSON but not an object");
  if (content.nbformat !== 4) {
    throw new RuntimedError(
      "BAD_REQUEST",
      `Only nbformat 4 notebooks can be opened; this one says nbformat ${JSON.stringify(content.nbformat ?? null)}. ` +
        "Convert it first with `jupyter nbconvert --to notebook --nbformat 4`.",
    );
  }
  const minor = content.nbformat_minor;
  if (typeof minor !== "number" || !Number.isInteger(minor) || minor < 0) throw notANotebook("nbformat_minor is not a whole number");
  if (!isObject(content.metadata)) throw notANotebook("its metadata is not an object");
  if (!Array.isArray(content.cells)) throw notANotebook("it has no cells list");

  const cellIds: string[] = [];
  const seen = new Set<string>();
  content.cells.forEach((cell, index) => {
    checkCell(cell, index);
    const id = (cell as JsonObject).id;
    const documentId = typeof id === "string" && id !== "" && !seen.has(id) ? id : `cell-${randomUUID()}`;
    seen.add(documentId);
    cellIds.push(documentId);
  });
  return { content, cellIds, numberLiterals: parsed.numberLiterals };
}

/**
 * Writes a notebook as nbformat does: sorted keys, one-space indent, `", "`/`": "` separators,
 * non-ASCII as is, and a final newline. `content` is written as it is, so line splitting is
 * already done: `parseIpynb` keeps the file's form and `cellsToIpynb` splits like nbformat's
 * `split_lines`.
 */
export function serializeIpynb(notebook: IpynbNotebook): string {
  return dumpJsonLikePython(notebook.content, { indent: 1, numberLiterals: notebook.numberLiterals }) + "\n";
}

function checkCell(cell: unknown, index: number): void {
  const where = `cell ${index}`;
  if (!isObject(cell)) throw notANotebook(`${where} is not an object`);
  if (typeof cell.cell_type !== "string" || !CELL_TYPES.has(cell.cell_type)) {
    throw notANotebook(`${where} has cell_type ${JSON.stringify(cell.cell_type ?? null)}, not code, markdown or raw`);
  }
  const source = cell.source;
  if (typeof source !== "string" && !(Array.isArray(source) && source.every((line) => typeof line === "string"))) {
    throw notANotebook(`${where} has a source that is neither a string nor a list of strings`);
  }
  if (cell.metadata !== undefined && !isObject(cell.metadata)) throw notANotebook(`${where} has metadata that is not an object`);
  if (cell.attachments !== undefined && !isObject(cell.attachments)) throw notANotebook(`${where} has attachments that are not an object`);
  if (cell.cell_type !== "code") return;
  const count = cell.execution_count;
  if (count !== undefined && count !== null && !(typeof count === "number" && Number.isInteger(count))) {
    throw notANotebook(`${where} has an execution_count that is not a whole number or null`);
  }
  if (cell.outputs === undefined) return;
  if (!Array.isArray(cell.outputs)) throw notANotebook(`${where} has outputs that are not a list`);
  cell.outputs.forEach((output, outputIndex) => {
    if (!isObject(output) || typeof output.output_type !== "string" || !OUTPUT_TYPES.has(output.output_type)) {
      throw notANotebook(`output ${outputIndex} of ${where} is not a stream, display_data, execute_result or error output`);
    }
  });
}

function notANotebook(problem: string): RuntimedError {
  return new RuntimedError("BAD_REQUEST", `Not an nbformat 4 notebook: ${problem}`);
}
