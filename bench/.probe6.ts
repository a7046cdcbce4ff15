import * as Automerge from "@automerge/automerge";
import { createNotebookDoc, type NotebookDoc } from "../lib/notebook/schema";
import { insertCell, setCellOutputs, setExecutionCount } from "../lib/notebook/cells";
import { now } from "./stats";
let doc: any = Automerge.from({ n: 0 });
for (let block = 0; block < 8; block++) { const a = now(); for (let i = 0; i < 300; i++) doc = Automerge.change(doc, (d: any) => { d.n = i; }); console.log("trivial block", block, ((now() - a) / 300).toFixed(3)); }
let nb = createNotebookDoc();
nb = Automerge.change(nb, (d: NotebookDoc) => void insertCell(d, { id: "cell-1", cellType: "code", source: "1+1" }));
const out = JSON.stringify({ output_type: "execute_result", data: { "text/plain": { inline: "2" } }, metadata: {}, execution_count: 1 });
for (let block = 0; block < 6; block++) { const a = now(); for (let i = 0; i < 300; i++) nb = Automerge.change(nb, { message: "o" }, (d: NotebookDoc) => { setCellOutputs(d, 0, [out]); setExecutionCount(d, 0, i); }); console.log("notebook outputs block", block, ((now() - a) / 300).toFixed(3)); }
