import * as fs from "node:fs"; import * as os from "node:os"; import * as path from "node:path";
import { Kernel } from "../lib/kernel/kernel";
import { Room } from "../lib/daemon/room";
import { OursDaemon } from "./ours-daemon";
import { FloorKernel } from "./floor-client";
import { now, median } from "./stats";
const marks: Record<string, number[]> = {};
let t0 = 0;
const mark = (k: string) => (marks[k] ??= []).push(now() - t0);
const origExec = Kernel.prototype.executeRequest;
Kernel.prototype.executeRequest = function (this: Kernel, code: string, o?: any) { mark("daemon: executeRequest"); const r = origExec.call(this, code, o); r.reply.then(() => mark("daemon: execute_reply")); return r; };
const origIopub = Room.prototype.iopub;
Room.prototype.iopub = function (this: Room, m: any) { const t = m.header.msg_type + (m.content.execution_state ? ":" + m.content.execution_state : ""); mark("daemon: iopub " + t); return origIopub.call(this, m); };
const origB = Room.prototype.broadcast;
Room.prototype.broadcast = function (this: Room, m: any) { mark("daemon: broadcast " + m.event); return origB.call(this, m); };
(async () => {
  process.env.PYDEVD_DISABLE_FILE_VALIDATION = "1";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probe-"));
  const ours = await OursDaemon.start(path.join(dir, "cache"));
  const floor = await FloorKernel.launch(dir);
  const s = ours.session("probe"); await s.connect(); await s.startKernel();
  s.events$.subscribe((e) => mark("client: " + e.type));
  const id = s.createCell("1+1");
  const f: number[] = [], o: number[] = [];
  for (let i = 0; i < 120; i++) {
    if (i === 20) for (const k of Object.keys(marks)) delete marks[k];
    let a = now(); await floor.execute("1+1"); if (i >= 20) f.push(now() - a);
    t0 = now(); await s.executeCell(id); mark("client: executeCell resolved"); if (i >= 20) o.push(now() - t0);
  }
  console.log("floor median", median(f).toFixed(2), "ours median", median(o).toFixed(2));
  for (const [k, v] of Object.entries(marks).sort((a, b) => median(a[1]) - median(b[1]))) console.log(median(v).toFixed(2).padStart(8), v.length, k);
  await s.close(); await ours.stop(); await floor.shutdown(); fs.rmSync(dir, { recursive: true, force: true });
})();
