import * as Automerge from "@automerge/automerge";
import { insertCell, setCellOutputs } from "../../lib/notebook/cells";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import { manifestBlobHashes, notebookBlobHashes } from "../../lib/outputs/blob-refs";
import { encodeManifest, toManifest, type BlobSink } from "../../lib/outputs/manifest";

const hash = (digit: string) => digit.repeat(64);

/** A sink that hands out the hashes it is given, one per payload stored. */
function sinkOf(...hashes: string[]): BlobSink {
  return { put: () => hashes.shift()! };
}

function notebookWith(outputsByCell: string[][]): Automerge.Doc<NotebookDoc> {
  return Automerge.change(createNotebookDoc(), (draft) => {
    outputsByCell.forEach((outputs, index) => {
      insertCell(draft, { id: `cell-${index}`, cellType: "code", source: "" });
      setCellOutputs(draft, index, outputs);
    });
  });
}

describe("manifestBlobHashes", () => {
  it("finds the blob of a stream, of each MIME value and of a traceback, and nothing in inline payloads", () => {
    const big = "x".repeat(9000);
    const stream = encodeManifest(toManifest({ output_type: "stream", name: "stdout", text: big }, sinkOf(hash("a"))));
    const display = encodeManifest(
      toManifest({ output_type: "display_data", data: { "text/plain": big, "text/html": big, "image/png": "small" }, metadata: {} }, sinkOf(hash("b"), hash("c"))),
    );
    const error = encodeManifest(toManifest({ output_type: "error", ename: "E", evalue: "v", traceback: [big] }, sinkOf(hash("d"))));
    expect(manifestBlobHashes(stream)).toEqual([hash("a")]);
    expect(manifestBlobHashes(display).sort()).toEqual([hash("b"), hash("c")]);
    expect(manifestBlobHashes(error)).toEqual([hash("d")]);
    expect(manifestBlobHashes(encodeManifest(toManifest({ output_type: "stream", name: "stdout", text: "short" })))).toEqual([]);
  });

  it("keeps anything hash-shaped in a manifest that is not JSON, and ignores blob fields that are not hashes", () => {
    expect(manifestBlobHashes(`{"blob": "${hash("e")}", broken`)).toEqual([hash("e")]);
    expect(manifestBlobHashes(JSON.stringify({ output_type: "stream", text: { blob: "not-a-hash", size: 3 } }))).toEqual([]);
    expect(manifestBlobHashes(JSON.stringify({ future: [{ nested: { blob: hash("f") } }] }))).toEqual([hash("f")]);
  });
});

describe("notebookBlobHashes", () => {
  it("collects the blobs every cell's outputs refer to, once each", () => {
    const ref = (h: string) => JSON.stringify({ output_type: "stream", name: "stdout", text: { blob: h, size: 9000 } });
    const doc = notebookWith([[ref(hash("1")), ref(hash("2"))], [], [ref(hash("2")), JSON.stringify({ output_type: "stream", name: "stdout", text: { inline: "hi" } })]]);
    expect([...notebookBlobHashes(doc)].sort()).toEqual([hash("1"), hash("2")]);
  });

  it("adds to the set it is given", () => {
    const doc = notebookWith([[JSON.stringify({ text: { blob: hash("3"), size: 1 } })]]);
    const into = new Set([hash("9")]);
    expect(notebookBlobHashes(doc, into)).toBe(into);
    expect([...into].sort()).toEqual([hash("3"), hash("9")]);
  });

  it("skips what does not have the schema's shape instead of failing", () => {
    expect([...notebookBlobHashes(undefined)]).toEqual([]);
    expect([...notebookBlobHashes({ cells: "nope" })]).toEqual([]);
    const hostile = { cells: [null, 7, { outputs: "x" }, { outputs: [42, null, { val: JSON.stringify({ blob: hash("4") }) }, JSON.stringify({ blob: hash("5") })] }] };
    expect([...notebookBlobHashes(hostile)].sort()).toEqual([hash("4"), hash("5")]);
  });
});
