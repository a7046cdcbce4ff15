import * as Automerge from "@automerge/automerge";
import {
  createNotebookDoc,
  findCellIndex,
  insertCell,
  readCells,
  readNotebookMetadata,
  requireCellIndex,
  setCellOutputs,
  setCellSource,
  setNotebookMetadata,
} from "../../lib/notebook";
import { RuntimedError } from "../../lib/protocol/errors";

describe("notebook document", () => {
  it("two replicas created independently share one genesis and keep both cells", () => {
    let a = createNotebookDoc();
    let b = createNotebookDoc();
    expect(Automerge.getHeads(a)).toEqual(Automerge.getHeads(b));
    a = Automerge.change(a, (d) => void insertCell(d, { id: "cell-a", cellType: "code", source: "hello" }));
    b = Automerge.change(b, (d) => void insertCell(d, { id: "cell-b", cellType: "markdown", source: "world" }));
    const merged = readCells(Automerge.merge(a, b));
    expect(merged.map((c) => c.id).sort()).toEqual(["cell-a", "cell-b"]);
  });

  it("concurrent edits of one source merge character-wise", () => {
    const base = Automerge.change(createNotebookDoc(), (d) => void insertCell(d, { id: "c", cellType: "code", source: "hello" }));
    let left = Automerge.clone(base);
    let right = Automerge.clone(base);
    left = Automerge.change(left, (d) => setCellSource(d, 0, "hello there"));
    right = Automerge.change(right, (d) => setCellSource(d, 0, "oh hello"));
    expect(readCells(Automerge.merge(left, right))[0]!.source).toBe("oh hello there");
  });

  it("inserts at an index, clamps out-of-range indices", () => {
    let doc = createNotebookDoc();
    doc = Automerge.change(doc, (d) => {
      insertCell(d, { id: "one", cellType: "code", source: "" });
      insertCell(d, { id: "zero", cellType: "code", source: "" }, 0);
      insertCell(d, { id: "last", cellType: "raw", source: "" }, 99);
    });
    expect(readCells(doc).map((c) => c.id)).toEqual(["zero", "one", "last"]);
    expect(findCellIndex(doc, "missing")).toBe(-1);
  });

  it("an unknown cell id is a CELL_NOT_FOUND error naming the id", () => {
    const doc = createNotebookDoc();
    expect(() => requireCellIndex(doc, "cell-nope", "nb")).toThrow(RuntimedError);
    try {
      requireCellIndex(doc, "cell-nope", "nb");
    } catch (error) {
      expect((error as RuntimedError).code).toBe("CELL_NOT_FOUND");
      expect((error as RuntimedError).message).toContain("cell-nope");
    }
  });

  it("rewriting outputs keeps the unchanged prefix and stores strings verbatim", () => {
    let doc = Automerge.change(createNotebookDoc(), (d) => void insertCell(d, { id: "c", cellType: "code", source: "" }));
    doc = Automerge.change(doc, (d) => setCellOutputs(d, 0, ['{"a":1}', '{"b":2}']));
    doc = Automerge.change(doc, (d) => setCellOutputs(d, 0, ['{"a":1}', '{"b":3}', '{"c":4}']));
    expect(readCells(doc)[0]!.outputs).toEqual(['{"a":1}', '{"b":3}', '{"c":4}']);
  });

  it("metadata values are strings", () => {
    const doc = Automerge.change(createNotebookDoc(), (d) => setNotebookMetadata(d, "k", '{"x":1}'));
    expect(readNotebookMetadata(doc, "k")).toBe('{"x":1}');
    expect(readNotebookMetadata(doc, "absent")).toBeUndefined();
  });
});
