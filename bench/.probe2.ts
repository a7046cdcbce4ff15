import * as fs from "node:fs"; import * as os from "node:os"; import * as path from "node:path";
import { Kernel } from "../lib/kernel/kernel";
import { pythonKernelSpec } from "../lib/kernel/kernelspec";
import { FloorKernel } from "./floor-client";
import { now, median } from "./stats";
(async () => {
  process.env.PYDEVD_DISABLE_FILE_VALIDATION = "1";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probe-"));
  const floor = await FloorKernel.launch(dir);
  const kernel = await Kernel.launch({ spec: pythonKernelSpec("/usr/bin/python3"), connectionDir: dir });
  const variants: Record<string, () => Promise<void>> = {
    floor: async () => void (await floor.execute("1+1")),
    libKernel: async () => {
      const { msgId, reply } = kernel.executeRequest("1+1", { allowStdin: true, storeHistory: true, stopOnError: false });
      const idle = new Promise<void>((resolve) => { const sub = kernel.iopub$.subscribe((m) => { if (m.parent_header.msg_id === msgId && m.header.msg_type === "status" && m.content.execution_state === "idle") { sub.unsubscribe(); resolve(); } }); });
      await Promise.all([reply, idle]);
    },
  };
  const samples: Record<string, number[]> = { floor: [], libKernel: [] };
  for (let i = 0; i < 150; i++) for (const [k, run] of Object.entries(variants)) { const a = now(); await run(); if (i >= 20) samples[k]!.push(now() - a); }
  for (const [k, v] of Object.entries(samples)) console.log(k, median(v).toFixed(2));
  await kernel.shutdown(); await floor.shutdown(); fs.rmSync(dir, { recursive: true, force: true });
})();
