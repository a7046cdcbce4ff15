import * as fs from "node:fs"; import * as os from "node:os"; import * as path from "node:path";
import { OursDaemon } from "./ours-daemon";
import { now, median } from "./stats";
(async () => {
  process.env.PYDEVD_DISABLE_FILE_VALIDATION = "1";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probe-"));
  const ours = await OursDaemon.start(path.join(dir, "cache"));
  const s = ours.session("probe"); await s.connect(); await s.startKernel();
  const id = s.createCell("1+1");
  for (let i = 0; i < 20; i++) await s.executeCell(id);
  const { Session } = await import("../lib/session/session");
  void Session;
  const o: number[] = [];
  const cpu0 = process.cpuUsage(); const w0 = now();
  for (let i = 0; i < 300; i++) { const t = now(); await s.executeCell(id); o.push(now() - t); }
  const cpu = process.cpuUsage(cpu0); const wall = now() - w0;
  console.log("ours median", median(o).toFixed(2), "per-exec CPU ms (this process: daemon+client)", ((cpu.user + cpu.system) / 1000 / 300).toFixed(2), "wall/exec", (wall / 300).toFixed(2));
  await s.close(); await ours.stop(); fs.rmSync(dir, { recursive: true, force: true });
})();
