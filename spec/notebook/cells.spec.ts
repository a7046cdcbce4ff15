import * as Automerge from "@automerge/automerge";
import {
  createNotebookDoc,
  findCellIndex,
  insertCell,
  moveCell,
  readCells,
  readNotebookMetadata,
  requireCellIndex,
  setCellOutputs,
  setCellExtras,
  setCellSource,
  setCellType,
  setExecutionCount,
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

  describe("moving and retyping cells", () => {
    function notebookOf(ids: string[]) {
      return Automerge.change(createNotebookDoc(), (d) => {
        for (const id of ids) insertCell(d, { id, cellType: "code", source: `source of ${id}` });
      });
    }

    it("moves a cell to the index it should end up at, forwards and backwards", () => {
      let doc = notebookOf(["a", "b", "c", "d"]);
      doc = Automerge.change(doc, (d) => void moveCell(d, 0, 2));
      expect(readCells(doc).map((c) => c.id)).toEqual(["b", "c", "a", "d"]);
      doc = Automerge.change(doc, (d) => void moveCell(d, 3, 0));
      expect(readCells(doc).map((c) => c.id)).toEqual(["d", "b", "c", "a"]);
    });

    it("clamps the target index and reports the index used", () => {
      let doc = notebookOf(["a", "b", "c"]);
      let used = -1;
      doc = Automerge.change(doc, (d) => void (used = moveCell(d, 0, 99)));
      expect(used).toBe(2);
      doc = Automerge.change(doc, (d) => void (used = moveCell(d, 2, -5)));
      expect(used).toBe(0);
      expect(readCells(doc).map((c) => c.id)).toEqual(["a", "b", "c"]);
    });

    it("a moved cell keeps its source, type, outputs, execution count, metadata and attachments", () => {
      let doc = notebookOf(["a", "b"]);
      doc = Automerge.change(doc, (d) => {
        setCellType(d, 0, "markdown");
        setCellExtras(d, 0, { tags: ["keep"] }, { "x.png": { "image/png": "iVBOR" } });
        setExecutionCount(d, 0, 7);
        setCellOutputs(d, 0, ['{"output_type":"stream"}']);
      });
      const before = readCells(doc)[0]!;
      doc = Automerge.change(doc, (d) => void moveCell(d, 0, 1));
      const cells = readCells(doc);
      expect(cells.map((c) => c.id)).toEqual(["b", "a"]);
      expect(cells[1]).toEqual(before);
    });

    it("the moved cell's source is still collaborative text that merges concurrent edits", () => {
      let doc = Automerge.change(notebookOf(["a", "b"]), (d) => void moveCell(d, 0, 1));
      let left = Automerge.clone(doc);
      let right = Automerge.clone(doc);
      left = Automerge.change(left, (d) => setCellSource(d, 1, "source of a, left"));
      right = Automerge.change(right, (d) => setCellSource(d, 1, "right: source of a"));
      expect(readCells(Automerge.merge(left, right))[1]!.source).toBe("right: source of a, left");
    });

    it("retyping a cell keeps its source and outputs", () => {
      let doc = Automerge.change(notebookOf(["a"]), (d) => setCellOutputs(d, 0, ['{"x":1}']));
      doc = Automerge.change(doc, (d) => setCellType(d, 0, "raw"));
      expect(readCells(doc)[0]).toMatchObject({ cellType: "raw", source: "source of a", outputs: ['{"x":1}'] });
    });
  });
});
