import * as Automerge from "@automerge/automerge";
import { insertCell, moveCell, setCellOutputs, setCellSource } from "../../lib/notebook/cells";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import { NotebookValidator, notebookProblem } from "../../lib/notebook/validate";
import { encodeManifest, toManifest } from "../../lib/outputs/manifest";

type Doc = Automerge.Doc<NotebookDoc>;

function notebook(cells: number): Doc {
  return Automerge.change(createNotebookDoc(), (draft) => {
    for (let i = 0; i < cells; i++) insertCell(draft, { id: `cell-${i}`, cellType: "code", source: `x = ${i}` });
  });
}

const goodOutput = encodeManifest(toManifest({ output_type: "stream", name: "stdout", text: "hi\n" }));

describe("NotebookValidator", () => {
  it("finds in a later version what notebookProblem finds in it, whichever cell the change broke", () => {
    const breakers: [string, (draft: NotebookDoc) => void][] = [
      ["source", (draft) => void ((draft.cells[7] as unknown as { source: number }).source = 42)],
      ["cell type", (draft) => void (draft.cells[3]!.cell_type = new Automerge.ImmutableString("python"))],
      ["duplicate id", (draft) => void insertCell(draft, { id: "cell-5", cellType: "code", source: "" }, 9)],
      ["metadata value", (draft) => void ((draft.metadata as Record<string, unknown>).kernel = 3)],
      ["output manifest", (draft) => void (draft.cells[2]!.outputs = [new Automerge.ImmutableString("{not json")])],
      ["cells list", (draft) => void delete (draft as Partial<NotebookDoc>).cells],
    ];
    for (const [what, breakIt] of breakers) {
      const validator = new NotebookValidator();
      let doc = notebook(10);
      expect(validator.problem(doc)).toBeUndefined();
      doc = Automerge.change(doc, (draft) => setCellSource(draft, 1, "fine"));
      expect(validator.problem(doc)).toBeUndefined();
      doc = Automerge.change(doc, breakIt);
      const problem = validator.problem(doc);
      expect({ what, problem }).toEqual({ what, problem: expect.any(String) });
      expect(problem).toBe(notebookProblem(doc));
    }
  });

  it("checks the output manifests of a cell whose outputs changed, and of a cell moved with them", () => {
    const validator = new NotebookValidator();
    let doc = notebook(3);
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, [goodOutput]));
    expect(validator.problem(doc)).toBeUndefined();
    doc = Automerge.change(doc, (draft) => void moveCell(draft, 0, 2));
    expect(validator.problem(doc)).toBeUndefined();
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 2, [goodOutput, '{"output_type": "nonsense"}']));
    expect(validator.problem(doc)).toMatch(/^cell 2: output 1/);
  });

  it("checks a copy of an older version (a refused change rolled back) as a new document", () => {
    const validator = new NotebookValidator();
    let doc = notebook(2);
    expect(validator.problem(doc)).toBeUndefined();
    const heads = Automerge.getHeads(doc);
    doc = Automerge.change(doc, (draft) => setCellSource(draft, 0, "y = 1"));
    expect(validator.problem(doc)).toBeUndefined();
    const rolledBack = Automerge.clone(Automerge.view(doc, heads));
    expect(validator.problem(rolledBack)).toBeUndefined();
    const broken = Automerge.change(rolledBack, (draft) => void ((draft.cells[1] as unknown as { execution_count: string }).execution_count = "one"));
    expect(validator.problem(broken)).toBe("cell 1: `execution_count` is not a number or null");
  });
});
