import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Automerge from "@automerge/automerge";
import type * as nbformat from "@jupyterlab/nbformat";
import { BlobStore } from "../../lib/daemon/blob-store";
import { insertCell, readAllNotebookMetadata, readCells, setCellOutputs, setExecutionCount, setNotebookMetadata } from "../../lib/notebook/cells";
import { cellsToIpynb, ipynbToCells, parseIpynb, serializeIpynb, type IpynbDocumentData, type IpynbNotebook } from "../../lib/notebook/ipynb";
import { dumpJsonLikePython, parseJsonPreservingNumbers, pythonFloatRepr } from "../../lib/notebook/ipynb-json";
import { splitLines } from "../../lib/notebook/ipynb-lines";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import { decodeManifest, encodeManifest, fromManifest, toManifest } from "../../lib/outputs/manifest";
import type { RuntimedError } from "../../lib/protocol/errors";
import { expectThrownCode } from "../expect-code";

const FIXTURES = join(__dirname, "..", "fixtures", "ipynb");
const SYSTEM_PYTHON = "/usr/bin/python3";
const committedFixtures = readdirSync(FIXTURES).filter((name) => name.endsWith(".ipynb")).sort();
const nbformatInstalled = spawnSync(SYSTEM_PYTHON, ["-c", "import nbformat"], { timeout: 20_000 }).status === 0;

let blobDir: string;
let blobs: BlobStore;

beforeAll(() => {
  blobDir = mkdtempSync(join(tmpdir(), "runtimed-ipynb-spec-"));
  blobs = new BlobStore(join(blobDir, "blobs"));
});

afterAll(() => rmSync(blobDir, { recursive: true, force: true }));

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), "utf8");
}

/**
 * Puts a notebook into a real Automerge document the way the daemon holds it (outputs as
 * manifests, large payloads in the blob store) and reads it back out as plain cells.
 */
async function throughDocument(data: IpynbDocumentData): Promise<IpynbDocumentData> {
  let doc = createNotebookDoc();
  doc = Automerge.change(doc, (draft: NotebookDoc) => {
    for (const [key, value] of Object.entries(data.metadata)) setNotebookMetadata(draft, key, value);
    data.cells.forEach((cell, index) => {
      insertCell(draft, { id: cell.id, cellType: cell.cellType, source: cell.source });
      setExecutionCount(draft, index, cell.executionCount);
      setCellOutputs(draft, index, cell.outputs.map((output) => encodeManifest(toManifest(output, blobs))));
      // A JSON copy, not structuredClone: that makes objects of another realm under jest, which Automerge refuses.
      draft.cells[index]!.metadata = JSON.parse(JSON.stringify(cell.metadata));
    });
  });
  const reloaded = Automerge.load<NotebookDoc>(Automerge.save(doc));
  const cells = await Promise.all(
    readCells(reloaded).map(async (cell, index) => ({
      ...cell,
      outputs: await Promise.all(cell.outputs.map((encoded) => fromManifest(decodeManifest(encoded), blobs.asSource()))),
      // The document schema has no attachments field yet; they travel beside it here.
      attachments: data.cells[index]!.attachments,
    })),
  );
  return { metadata: readAllNotebookMetadata(reloaded), cells };
}

async function roundTrip(text: string, useTemplate = true): Promise<string> {
  const notebook = parseIpynb(text);
  const data = await throughDocument(ipynbToCells(notebook));
  return serializeIpynb(cellsToIpynb(data, useTemplate ? notebook : undefined));
}

function runPython(script: string, args: string[]): string {
  const result = spawnSync(SYSTEM_PYTHON, ["-c", script, ...args], { encoding: "utf8", timeout: 60_000 });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return result.stdout;
}

describe("committed fixtures written by Jupyter's nbformat", () => {
  it("has the fixtures", () => {
    expect(committedFixtures).toEqual(["everything.ipynb", "no-ids-v4.4.ipynb"]);
  });

  it.each(committedFixtures)("%s: parse then serialize gives the same bytes", (name) => {
    const text = fixture(name);
    expect(serializeIpynb(parseIpynb(text))).toBe(text);
  });

  it.each(committedFixtures)("%s: through a real document and blob store and back gives the same bytes", async (name) => {
    const text = fixture(name);
    expect(await roundTrip(text)).toBe(text);
  });

  it("without the template only integral floats inside cells lose their .0 (a JS number cannot keep it)", async () => {
    const text = fixture("everything.ipynb");
    const expected = text
      .replace('"duration": 2.0', '"duration": 2')
      .replace('"width": 100.0', '"width": 100')
      .replace(/(\n {8})3\.0\n/, "$13\n");
    expect(expected).not.toBe(text);
    expect(await roundTrip(text, false)).toBe(expected);
    expect(await roundTrip(fixture("no-ids-v4.4.ipynb"), false)).toBe(fixture("no-ids-v4.4.ipynb"));
  });

  it("maps notebook metadata and cells to the document", () => {
    const notebook = parseIpynb(fixture("everything.ipynb"));
    const data = ipynbToCells(notebook);
    expect(Object.keys(data.metadata).sort()).toEqual(["nbformat_minor", "notebook_metadata"]);
    expect(data.metadata.nbformat_minor).toBe("5");
    const metadata = JSON.parse(data.metadata.notebook_metadata!);
    expect(metadata.kernelspec.name).toBe("python3");
    // Python's float literals survive in the metadata text.
    expect(data.metadata.notebook_metadata).toContain('"scale":1.0');
    expect(data.metadata.notebook_metadata).toContain('"tiny":1e-05');
    expect(data.cells.map((cell) => [cell.id, cell.cellType])).toEqual([
      ["markdown-intro", "markdown"],
      ["code-streams", "code"],
      ["code-rich", "code"],
      ["code-error", "code"],
      ["code-empty", "code"],
      ["code-crlf", "code"],
      ["raw-latex", "raw"],
      ["markdown-empty", "markdown"],
    ]);
    const streams = data.cells[1]!;
    expect(streams.source).toBe("import sys\nprint('hello\\nworld')\nprint('oops', file=sys.stderr)");
    expect(streams.executionCount).toBe(1);
    expect(streams.metadata).toEqual({
      collapsed: true,
      scrolled: false,
      tags: ["parameters", "ünï"],
      timing: { duration: 2, started: 1700000000.25 },
    });
    expect(streams.outputs[0]).toEqual({ name: "stdout", output_type: "stream", text: ["hello\n", "world\n"] });
    expect(data.cells[0]!.attachments).toEqual({
      "tiny.png": { "image/png": expect.stringMatching(/^iVBOR.*\n$/), "text/plain": ["a tiny\n", "image"] },
    });
    expect(data.cells[3]!.outputs[0]).toMatchObject({ output_type: "error", ename: "ZeroDivisionError" });
    expect(data.cells[4]).toMatchObject({ source: "", executionCount: null, outputs: [] });
    expect(data.cells[5]!.source).toBe("x = 1\r\ny = 2\r\n\tz = '\\u00e9'  # tab, CRLF\n");
    expect(data.cells[6]!.metadata).toEqual({ format: "text/latex" });
  });

  it("gives cells without ids (nbformat 4.4) fresh cell-<uuid> ids and writes them back without", () => {
    const text = fixture("no-ids-v4.4.ipynb");
    const notebook = parseIpynb(text);
    const data = ipynbToCells(notebook);
    expect(data.metadata.nbformat_minor).toBe("4");
    for (const cell of data.cells) expect(cell.id).toMatch(/^cell-[0-9a-f-]{36}$/);
    expect(new Set(data.cells.map((cell) => cell.id)).size).toBe(3);
    data.cells.push({ id: "cell-added", cellType: "code", source: "added", executionCount: null, outputs: [], metadata: {} });
    const written = serializeIpynb(cellsToIpynb(data, notebook));
    expect(written).not.toContain('"id"');
    expect(written).toContain('"added"');
  });
});

describe("edits", () => {
  const editScript = `
import sys, nbformat
from nbformat.v4 import new_markdown_cell, new_output
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells[1].source = "print('edited')\\nx = 1\\n"
nb.cells[3].outputs = [new_output("stream", name="stdout", text="fixed\\nnow\\n")]
nb.cells[3].execution_count = 9
nb.cells[6].metadata["tags"] = ["new"]
del nb.cells[7]
nb.cells.insert(0, new_markdown_cell("New\\ncell ✓", id="new-cell"))
nb.metadata["kernelspec"]["display_name"] = "Edited 😀"
sys.stdout.write(nbformat.writes(nb) + "\\n")
`;

  function applyEdits(data: IpynbDocumentData): void {
    data.cells[1]!.source = "print('edited')\nx = 1\n";
    data.cells[3]!.outputs = [{ output_type: "stream", name: "stdout", text: "fixed\nnow\n" }];
    data.cells[3]!.executionCount = 9;
    data.cells[6]!.metadata = { ...data.cells[6]!.metadata, tags: ["new"] };
    data.cells.splice(7, 1);
    data.cells.unshift({ id: "new-cell", cellType: "markdown", source: "New\ncell ✓", executionCount: null, outputs: [], metadata: {} });
    const metadata = JSON.parse(data.metadata.notebook_metadata!);
    metadata.kernelspec.display_name = "Edited 😀";
    data.metadata.notebook_metadata = JSON.stringify(metadata);
  }

  async function editedHere(): Promise<string> {
    const notebook = parseIpynb(fixture("everything.ipynb"));
    const data = await throughDocument(ipynbToCells(notebook));
    applyEdits(data);
    return serializeIpynb(cellsToIpynb(data, notebook));
  }

  it("writes changed cells the way nbformat writes them and keeps the rest as it was", async () => {
    const written = await editedHere();
    expect(written).toContain('   "source": [\n    "print(\'edited\')\\n",\n    "x = 1\\n"\n   ]');
    expect(written).toContain('     "text": [\n      "fixed\\n",\n      "now\\n"\n     ]');
    expect(written).toContain('"display_name": "Edited 😀"');
    expect(written).toContain('   "id": "new-cell"');
    expect(written).not.toContain("markdown-empty");
    // Untouched float literals survive, in cells that moved and in metadata that changed.
    expect(written).toContain('"duration": 2.0');
    expect(written).toContain('"width": 100.0');
    expect(written).toContain('"scale": 1.0');
    expect(written).toContain('"negative_zero": -0.0');
  });

  if (nbformatInstalled) {
    it("gives exactly what nbformat writes for the same edits", async () => {
      const expected = runPython(editScript, [join(FIXTURES, "everything.ipynb")]);
      expect(await editedHere()).toBe(expected);
    });
  } else {
    it("skipped: nbformat is not installed for /usr/bin/python3 (apt-get install python3-nbformat)", () => {
      expect(nbformatInstalled).toBe(false);
    });
  }

  it("keeps a source written as one string a string, edited or not", () => {
    const text = '{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {}, "outputs": [], "source": "x = 1\\ny = 2"},' +
      ' {"cell_type": "markdown", "id": "b", "metadata": {}, "source": "# Hi\\n"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}';
    const notebook = parseIpynb(text);
    const data = ipynbToCells(notebook);
    expect(data.cells.map((cell) => cell.source)).toEqual(["x = 1\ny = 2", "# Hi\n"]);
    data.cells[1]!.source = "# Hello\nthere";
    const written = cellsToIpynb(data, notebook).content.cells as Array<{ source: unknown }>;
    expect(written.map((cell) => cell.source)).toEqual(["x = 1\ny = 2", "# Hello\nthere"]);
  });

  it("keeps unknown keys, and a repeated id, from the template; drops transient keys as nbformat does", () => {
    const text = JSON.stringify({
      cells: [
        { cell_type: "code", execution_count: 1, id: "same", metadata: { trusted: true, keep: 1 }, outputs: [], source: ["a"], x_tool: { v: 1 } },
        { cell_type: "code", execution_count: 2, id: "same", metadata: {}, outputs: [], source: ["b"] },
      ],
      metadata: { signature: "sha256:x", orig_nbformat: 3, kernelspec: { name: "python3" } },
      nbformat: 4,
      nbformat_minor: 5,
      x_top: [1, 2],
    });
    const notebook = parseIpynb(text);
    expect(notebook.cellIds[0]).toBe("same");
    expect(notebook.cellIds[1]).toMatch(/^cell-/);
    const content = cellsToIpynb(ipynbToCells(notebook), notebook).content;
    expect(content.x_top).toEqual([1, 2]);
    expect(content.metadata).toEqual({ kernelspec: { name: "python3" } });
    expect(content.cells).toEqual([
      { cell_type: "code", execution_count: 1, id: "same", metadata: { keep: 1 }, outputs: [], source: ["a"], x_tool: { v: 1 } },
      { cell_type: "code", execution_count: 2, id: "same", metadata: {}, outputs: [], source: ["b"] },
    ]);
  });

  it("writes a new notebook with no template as nbformat 4.5 with ids", () => {
    const written = serializeIpynb(
      cellsToIpynb({
        metadata: {},
        cells: [{ id: "cell-1", cellType: "code", source: "print(1)\n", executionCount: 1, outputs: [{ output_type: "stream", name: "stdout", text: "1\n" }], metadata: {} }],
      }),
    );
    expect(written).toBe(
      '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": 1,\n   "id": "cell-1",\n   "metadata": {},\n' +
        '   "outputs": [\n    {\n     "name": "stdout",\n     "output_type": "stream",\n     "text": [\n      "1\\n"\n     ]\n    }\n   ],\n' +
        '   "source": [\n    "print(1)\\n"\n   ]\n  }\n ],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n',
    );
  });
});

describe("rejecting what is not an nbformat 4 notebook", () => {
  function badRequest(text: string): RuntimedError {
    return expectThrownCode(() => parseIpynb(text), "BAD_REQUEST");
  }

  it("names the version of an nbformat 3 notebook and how to convert it", () => {
    expect(badRequest('{"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}').message).toMatch(/nbformat 3.*nbconvert/);
  });

  it("points at the place of a JSON syntax error", () => {
    expect(badRequest('{\n "cells": [,]\n}').message).toMatch(/line 2 column/);
  });

  it("says which cell is malformed", () => {
    const cells = (cell: object) => JSON.stringify({ cells: [{ cell_type: "code", metadata: {}, source: "", outputs: [] }, cell], metadata: {}, nbformat: 4, nbformat_minor: 5 });
    expect(badRequest(cells({ cell_type: "heading", metadata: {}, source: "" })).message).toMatch(/cell 1 .*heading/);
    expect(badRequest(cells({ cell_type: "code", metadata: {}, source: 3 })).message).toMatch(/cell 1 .*source/);
    expect(badRequest(cells({ cell_type: "code", metadata: {}, source: "", outputs: [{ output_type: "pyout" }] })).message).toMatch(/output 0 of cell 1/);
    expect(badRequest('{"metadata": {}, "nbformat": 4, "nbformat_minor": 5}').message).toMatch(/no cells/);
    expect(badRequest("[]").message).toMatch(/not an object/);
  });
});

describe("a notebook written by the installed nbformat at test time", () => {
  if (!nbformatInstalled) {
    it("skipped: nbformat is not installed for /usr/bin/python3 (apt-get install python3-nbformat)", () => {
      expect(nbformatInstalled).toBe(false);
    });
    return;
  }

  let outDir: string;
  let written: Record<string, string>;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), "runtimed-nbformat-"));
    runPython(readFileSync(join(FIXTURES, "make-fixtures.py"), "utf8"), [outDir, "--large"]);
    written = Object.fromEntries(readdirSync(outDir).map((name) => [name, readFileSync(join(outDir, name), "utf8")]));
  });

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("writes what the committed fixtures hold, plus a large output", () => {
    expect(Object.keys(written).sort()).toEqual(["everything.ipynb", "large-output.ipynb", "no-ids-v4.4.ipynb"]);
  });

  it("round-trips every file byte for byte, large payloads going through the blob store", async () => {
    for (const [name, text] of Object.entries(written)) {
      const notebook: IpynbNotebook = parseIpynb(text);
      expect({ name, text: serializeIpynb(notebook) }).toEqual({ name, text });
      expect({ name, text: await roundTrip(text) }).toEqual({ name, text });
    }
    const large = ipynbToCells(parseIpynb(written["large-output.ipynb"]!));
    const manifest = toManifest(large.cells[0]!.outputs[0] as nbformat.IOutput, blobs);
    expect(JSON.stringify(manifest)).toMatch(/"blob":"[0-9a-f]{64}"/);
  });
});

describe("JSON exactly as Python's json module writes it (checked against /usr/bin/python3)", () => {
  const dumpScript = `
import json, sys
value = json.loads(sys.stdin.read())
sys.stdout.write(json.dumps(value, sort_keys=True, indent=1, separators=(",", ": "), ensure_ascii=False))
`;
  const reprScript = `
import json, sys
sys.stdout.write("\\n".join(repr(float(v)) for v in json.loads(sys.stdin.read())))
`;
  const splitScript = `
import json, sys
sys.stdout.write(json.dumps([s.splitlines(True) for s in json.loads(sys.stdin.read())]))
`;

  function python(script: string, input: string): string {
    const result = spawnSync(SYSTEM_PYTHON, ["-c", script], { input, encoding: "utf8", timeout: 60_000 });
    if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
    return result.stdout;
  }

  /** Deterministic pseudo-random doubles over the whole range (xorshift over raw bits). */
  function sampleDoubles(count: number): number[] {
    const view = new DataView(new ArrayBuffer(8));
    let state = 0x2545f4914f6cdd1dn;
    const values = [0.1, 0.5, 1 / 3, 1e-4, 1e-5, 9.999e-5, 1e15, 1e16, 123456789012345.6, 1.5e300, 5e-324, 1.7976931348623157e308, -2.5, 100.25];
    while (values.length < count) {
      state ^= (state << 13n) & 0xffffffffffffffffn;
      state ^= state >> 7n;
      state ^= (state << 17n) & 0xffffffffffffffffn;
      view.setBigUint64(0, state);
      const value = view.getFloat64(0);
      if (Number.isFinite(value)) values.push(value);
      // Also values of everyday magnitude, where the positional/exponent switch happens.
      values.push(Number((value % 1e6).toPrecision(1 + (values.length % 17))) / 10 ** (values.length % 24));
    }
    return values.filter((value) => Number.isFinite(value));
  }

  it("formats floats like Python's repr", () => {
    const values = sampleDoubles(3000);
    const expected = python(reprScript, JSON.stringify(values)).split("\n");
    expect(values.map(pythonFloatRepr)).toEqual(expected);
  });

  it("dumps nested values with sorted unicode keys, escapes and numbers like json.dumps", () => {
    const value = {
      z: [1, 2.5, -0.125, 1e21, 12345678901234567890, 1e-7, true, false, null, [], {}],
      "é": "tab\tnewline\ncr\rquote\"backslash\\ bell\u0007 escape\u001b del\u007f nbsp\u00a0 sep\u2028",
      "😀": { "\ue000": "private use", "\uffff": "last BMP", a: [[{}]] },
      A: "emoji 🚀 and CJK 漢字",
      "": "empty key",
      "a/b~c": 1.0,
    };
    const text = JSON.stringify(value).replace('"a/b~c":1', '"a/b~c":1.0');
    const parsed = parseJsonPreservingNumbers(text);
    expect(dumpJsonLikePython(parsed.value, { indent: 1, numberLiterals: parsed.numberLiterals })).toBe(python(dumpScript, text));
  });

  it("splits lines exactly like Python's str.splitlines(True)", () => {
    const samples = ["", "a", "a\n", "a\nb", "\n\n", "a\r\nb\rc\n", "\r\r\n", "v\u000bf\u000cfs\u001cgs\u001drs\u001enel\u0085ls\u2028ps\u2029end", "no newline at end\t"];
    expect(samples.map(splitLines)).toEqual(JSON.parse(python(splitScript, JSON.stringify(samples))));
  });
});
