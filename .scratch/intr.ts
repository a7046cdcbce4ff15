import { readFileSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filter, firstValueFrom } from "rxjs";
import { Kernel } from "../lib/kernel/kernel";
import { findIpykernelPython, pythonKernelSpec } from "../lib/kernel/kernelspec";

function masks(pid: number): string {
  const out: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const s = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
    const get = (k: string) => (s.match(new RegExp(`${k}:\\s*(\\S+)`)) ?? [])[1];
    out.push(`${tid} ${get("Name")} blk=${get("SigBlk")} ign=${get("SigIgn")} cgt=${get("SigCgt")} pnd=${get("SigPnd")} shd=${get("ShdPnd")}`);
  }
  return out.join("\n");
}

async function main() {
  const python = await findIpykernelPython();
  const spec = { ...pythonKernelSpec(python!), argv: [python!, "-Xfrozen_modules=off", "/work/main/.scratch/sigkernel.py", "-f", "{connection_file}"] };
  const dir = mkdtempSync(join(tmpdir(), "intr-"));
  for (let trial = 0; trial < Number(process.argv[2] ?? 10); trial++) {
    const kernel = await Kernel.launch({ spec, connectionDir: dir, startupTimeoutMs: 30000 });
    const pid = kernel.pid;
    const { msgId, reply } = kernel.executeRequest("import time\nwhile True:\n    time.sleep(0.05)", { stopOnError: false });
    await firstValueFrom(kernel.iopub$.pipe(filter((m) => m.parent_header.msg_id === msgId && m.header.msg_type === "execute_input")));
    const t = Date.now(); console.log("interrupt at", (t/1000).toFixed(3));
    await kernel.interrupt();
    const r = await Promise.race([reply.then((m) => m.content.ename as string), new Promise<string>((res) => setTimeout(() => res("TIMEOUT"), 3000))]);
    console.log(trial, r, Date.now() - t, "ms");
    if (r === "TIMEOUT") { console.log("pid", pid); console.log(masks(pid)); }
    await kernel.shutdown();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
