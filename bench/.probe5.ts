import * as Automerge from "@automerge/automerge";
import { createNotebookDoc, type NotebookDoc } from "../lib/notebook/schema";
import { insertCell } from "../lib/notebook/cells";
import { now } from "./stats";
let doc = createNotebookDoc();
doc = Automerge.change(doc, (d: NotebookDoc) => void insertCell(d, { id: "cell-1", cellType: "code", source: "1+1" }));
const bench = (name: string, f: (d: any, i: number) => void, n = 200) => {
  const a = now();
  for (let i = 0; i < n; i++) doc = Automerge.change(doc, (d: any) => f(d, i));
  console.log(name, ((now() - a) / n).toFixed(3), "ms/change");
};
bench("set number", (d, i) => { d.cells[0].execution_count = i; });
bench("set number again", (d, i) => { d.cells[0].execution_count = i; });
bench("set top-level", (d, i) => { d.metadata.x = String(i); });
bench("push ImmutableString", (d) => { d.cells[0].outputs.splice(0, d.cells[0].outputs.length); d.cells[0].outputs.push(new Automerge.ImmutableString("abc")); });
const a = now(); for (let i = 0; i < 200; i++) doc = Automerge.changeAt ? doc : doc; void a;
const h = Automerge.getHeads(doc); let b = now(); for (let i = 0; i < 200; i++) Automerge.hasHeads(doc, h); console.log("hasHeads", ((now() - b) / 200).toFixed(3));
b = now(); for (let i = 0; i < 50; i++) Automerge.save(doc); console.log("save", ((now() - b) / 50).toFixed(3), Automerge.save(doc).length);
console.log(Object.keys(require("@automerge/automerge/package.json")), require("@automerge/automerge/package.json").version);
