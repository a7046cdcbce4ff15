import * as Automerge from "@automerge/automerge";
import { createNotebookDoc, type NotebookDoc } from "../lib/notebook/schema";
import { insertCell, setCellOutputs, setExecutionCount } from "../lib/notebook/cells";
import { now } from "./stats";
let doc = createNotebookDoc();
doc = Automerge.change(doc, (d: NotebookDoc) => void insertCell(d, { id: "cell-1", cellType: "code", source: "1+1" }));
let peerDoc = Automerge.clone(doc);
let s1 = Automerge.initSyncState(), s2 = Automerge.initSyncState();
const out = JSON.stringify({ output_type: "execute_result", data: { "text/plain": { inline: "2" } }, metadata: {}, execution_count: 1 });
const t: Record<string, number> = { change: 0, gen: 0, recv: 0, recvPatch: 0 };
const N = 300;
for (let i = 0; i < N; i++) {
  let a = now();
  doc = Automerge.change(doc, { message: "clear" }, (d: NotebookDoc) => { setCellOutputs(d, 0, []); setExecutionCount(d, 0, null); });
  doc = Automerge.change(doc, { message: "outputs" }, (d: NotebookDoc) => { setCellOutputs(d, 0, [out]); setExecutionCount(d, 0, i); });
  t.change! += now() - a;
  for (;;) {
    a = now(); const [ns, msg] = Automerge.generateSyncMessage(doc, s1); s1 = ns; t.gen! += now() - a;
    let reply: Uint8Array | null = null;
    if (msg) { a = now(); [peerDoc, s2] = Automerge.receiveSyncMessage(peerDoc, s2, msg, { patchCallback: () => undefined }); t.recv! += now() - a; }
    a = now(); const [ns2, m2] = Automerge.generateSyncMessage(peerDoc, s2); s2 = ns2; reply = m2; t.gen! += now() - a;
    if (reply) { a = now(); [doc, s1] = Automerge.receiveSyncMessage(doc, s1, reply); t.recv! += now() - a; }
    if (!msg && !reply) break;
  }
}
for (const [k, v] of Object.entries(t)) console.log(k, (v / N).toFixed(3), "ms per execution");
let a = now(); for (let i = 0; i < 300; i++) Automerge.getHeads(doc); console.log("getHeads", ((now() - a) / 300).toFixed(3));
