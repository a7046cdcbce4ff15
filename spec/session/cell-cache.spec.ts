import { createHash } from "node:crypto";
import * as Automerge from "@automerge/automerge";
import { insertCell, moveCell, removeCell, setCellOutputs, setCellSource, setCellExtras, setExecutionCount } from "../../lib/notebook/cells";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import { encodeManifest, toManifest } from "../../lib/outputs/manifest";
import { CellCache, sameCell, sameCells } from "../../lib/session/cell-cache";
import { OutputDecoder } from "../../lib/session/output-decoder";
import type { BlobReader } from "../../lib/session/platform";
import type { Cell } from "../../lib/session/types";

type Doc = Automerge.Doc<NotebookDoc>;

/** Blobs held in memory; `pending` ones are fetched only when the test releases them. */
class MemoryBlobs implements BlobReader {
  readonly stored = new Map<string, Uint8Array>();
  readonly pending = new Map<string, () => void>();
  put(text: string): string {
    const bytes = new TextEncoder().encode(text);
    const hash = createHash("sha256").update(bytes).digest("hex");
    this.stored.set(hash, bytes);
    return hash;
  }
  hold(hash: string): void {
    this.pending.set(hash, () => undefined);
  }
  readSync(hash: string): Uint8Array | undefined {
    return this.pending.has(hash) ? undefined : this.stored.get(hash);
  }
  read(hash: string): Promise<Uint8Array> {
    return new Promise((resolve) => this.pending.set(hash, () => resolve(this.stored.get(hash)!)));
  }
  release(hash: string): void {
    const done = this.pending.get(hash);
    this.pending.delete(hash);
    done?.();
  }
  close(): void {}
}

function stream(text: string): string {
  return encodeManifest(toManifest({ output_type: "stream", name: "stdout", text }));
}

/** Counts the manifests the decoder really decodes. */
function countingDecoder(blobs: BlobReader = new MemoryBlobs()): { decoder: OutputDecoder; decoded: string[] } {
  const decoder = new OutputDecoder(blobs);
  const decoded: string[] = [];
  const whole = decoder.decodeWhole.bind(decoder);
  decoder.decodeWhole = (encoded) => (decoded.push(encoded), whole(encoded));
  return { decoder, decoded };
}

function notebook(sources: string[]): Doc {
  return Automerge.change(createNotebookDoc(), (draft) => sources.forEach((source, i) => insertCell(draft, { id: `cell-${i}`, cellType: "code", source })));
}

function expectMatchesDocument(cells: Cell[], doc: Doc): void {
  expect(cells.map((cell) => [cell.id, cell.source, cell.executionCount, cell.outputs.length])).toEqual(
    doc.cells.map((record) => [String(record.id), record.source, record.execution_count, record.outputs.length]),
  );
}

describe("CellCache", () => {
  it("hands out the same frozen cell objects until a cell changes, and a changed cell anew", () => {
    const cache = new CellCache(countingDecoder().decoder);
    let doc = notebook(["a", "b", "c"]);
    const before = cache.cells(doc);
    expect(Object.isFrozen(before[0])).toBe(true);
    expect(() => ((before[0] as { source: string }).source = "x")).toThrow();
    doc = Automerge.change(doc, (draft) => setCellSource(draft, 1, "b2"));
    const after = cache.cells(doc);
    expect(after[0]).toBe(before[0]);
    expect(after[2]).toBe(before[2]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[1]!.source).toBe("b2");
    expect(before[1]!.source).toBe("b");
    expect(cache.cells(doc)).not.toBe(after);
  });

  it("follows inserts, deletes and moves of cells", () => {
    const cache = new CellCache(countingDecoder().decoder);
    let doc = notebook(["a", "b", "c", "d"]);
    const first = cache.cells(doc);
    doc = Automerge.change(doc, (draft) => void insertCell(draft, { id: "cell-new", cellType: "markdown", source: "new" }, 1));
    expectMatchesDocument(cache.cells(doc), doc);
    doc = Automerge.change(doc, (draft) => removeCell(draft, 0));
    expectMatchesDocument(cache.cells(doc), doc);
    doc = Automerge.change(doc, (draft) => void moveCell(draft, 3, 0));
    const moved = cache.cells(doc);
    expectMatchesDocument(moved, doc);
    expect(moved.map((cell) => cell.id)).toEqual(["cell-3", "cell-new", "cell-1", "cell-2"]);
    // Cells nobody touched are the very objects read at first.
    expect(moved[2]).toBe(first[1]);
    expect(cache.cell(doc, "cell-2")).toBe(first[2]);
    expect(cache.indexOf(doc, "cell-new")).toBe(1);
    expect(cache.cell(doc, "cell-0")).toBeUndefined();
  });

  it("follows changes that come from another replica", () => {
    const cache = new CellCache(countingDecoder().decoder);
    let doc = notebook(["a", "b"]);
    let other = Automerge.clone(doc);
    const before = cache.cells(doc);
    other = Automerge.change(other, (draft) => {
      setCellSource(draft, 1, "remote");
      setExecutionCount(draft, 1, 4);
    });
    doc = Automerge.merge(doc, other);
    const after = cache.cells(doc);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).toMatchObject({ source: "remote", executionCount: 4 });
  });

  it("decodes each output once: a source edit reuses them, a new output is decoded, metadata changes show", () => {
    const { decoder, decoded } = countingDecoder();
    const cache = new CellCache(decoder);
    let doc = notebook(["print(1)"]);
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, [stream("1\n")]));
    expect(cache.cells(doc)[0]!.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "1\n" }]);
    expect(decoded).toHaveLength(1);
    doc = Automerge.change(doc, (draft) => setCellSource(draft, 0, "print(1) "));
    const edited = cache.cells(doc)[0]!;
    expect(edited.source).toBe("print(1) ");
    expect(decoded).toHaveLength(1);
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, [stream("1\n"), stream("2\n")]));
    const grown = cache.cells(doc)[0]!;
    expect(grown.outputs.map((output) => output.text)).toEqual(["1\n", "2\n"]);
    expect(grown.outputs[0]).toBe(edited.outputs[0]);
    expect(decoded).toHaveLength(2);
    doc = Automerge.change(doc, (draft) => setCellExtras(draft, 0, { tags: ["slow"] }));
    expect(cache.cells(doc)[0]!.metadata).toEqual({ tags: ["slow"] });
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, []));
    expect(cache.cells(doc)[0]!.outputs).toEqual([]);
  });

  it("reads a cell again while a payload of its outputs is being fetched, and keeps it once whole", async () => {
    const blobs = new MemoryBlobs();
    const big = "x".repeat(20_000);
    const hash = blobs.put(big);
    blobs.hold(hash);
    const { decoder, decoded } = countingDecoder(blobs);
    const cache = new CellCache(decoder);
    let doc = notebook(["print(big)"]);
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, [encodeManifest({ output_type: "stream", name: "stdout", text: { blob: hash, size: big.length } })]));
    const partial = cache.cells(doc)[0]!;
    expect(partial.outputs[0]!.text).toBe("");
    blobs.release(hash);
    await decoder.whenResolved();
    const whole = cache.cells(doc)[0]!;
    expect(whole.outputs[0]!.text).toBe(big);
    expect(sameCell(partial, whole)).toBe(false);
    const count = decoded.length;
    expect(cache.cells(doc)[0]).toBe(whole);
    expect(decoded).toHaveLength(count);
  });

  it("forgets decoded outputs no cell shows any more", () => {
    const { decoder, decoded } = countingDecoder();
    const cache = new CellCache(decoder);
    let doc = notebook(["loop"]);
    const first = stream("first\n");
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, [first]));
    cache.cells(doc);
    for (let i = 0; i < 600; i++) {
      doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, [stream(`${i}\n`)]));
      cache.cells(doc);
    }
    doc = Automerge.change(doc, (draft) => setCellOutputs(draft, 0, [first]));
    const count = decoded.length;
    expect(cache.cells(doc)[0]!.outputs[0]!.text).toBe("first\n");
    // The first output went in a sweep, so it was decoded again.
    expect(decoded).toHaveLength(count + 1);
  });
});

describe("sameCells", () => {
  it("tells equal lists from different ones, comparing changed cells by content", () => {
    const cache = new CellCache(countingDecoder().decoder);
    let doc = notebook(["a", "b"]);
    const before = cache.cells(doc);
    expect(sameCells(before, cache.cells(doc))).toBe(true);
    // Another object with the same content: an edit, then its undoing.
    doc = Automerge.change(doc, (draft) => setExecutionCount(draft, 1, 1));
    doc = Automerge.change(doc, (draft) => setExecutionCount(draft, 1, null));
    const rewritten = cache.cells(doc);
    expect(rewritten[1]).not.toBe(before[1]);
    expect(sameCells(before, rewritten)).toBe(true);
    doc = Automerge.change(doc, (draft) => setCellSource(draft, 1, "b2"));
    expect(sameCells(before, cache.cells(doc))).toBe(false);
    expect(sameCells(before, before.slice(0, 1))).toBe(false);
  });
});
