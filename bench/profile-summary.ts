/**
 * Summarises a V8 CPU profile (`.cpuprofile`, from `node --cpu-prof` or the inspector): the top
 * functions by self time, the top project functions by total (inclusive) time, and self time by
 * package/area — optionally only within a time window and divided per execution.
 *
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 25] [--from µs --to µs] [--per N]`
 * (`--from/--to` in the profile's clock: CLOCK_MONOTONIC µs, as `process.hrtime.bigint() / 1000n`).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The parts of the `.cpuprofile` format this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What to summarise. */
export interface SummaryOptions {
  top?: number;
  /** Window start/end in the profile's clock (µs); default the whole profile. */
  from?: number;
  to?: number;
  /** Divide by this many executions to show µs per execution. */
  per?: number;
}

const REPO_ROOT = path.resolve(__dirname, "..");
const META = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** Where a function lives, shortened: lib/daemon/room.ts, msgpackr, node:net, wasm. */
export function area(url: string): string {
  if (!url) return "(native)";
  if (url.startsWith("node:")) return url.replace(/^node:internal\//, "node:").split("/").slice(0, 2).join("/");
  if (url.startsWith("wasm://")) return "wasm";
  const file = url.replace(/^file:\/\//, "");
  const modules = file.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = file.slice(modules + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return path.relative(REPO_ROOT, file);
}

function label(node: CpuProfile["nodes"][number]): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (META.has(functionName)) return functionName;
  const where = area(url);
  // Line numbers of TypeScript run through tsx are those of the transformed code: left out.
  const line = url && !url.startsWith("wasm://") && !url.endsWith(".ts") && lineNumber >= 0 ? `:${lineNumber + 1}` : "";
  return `${functionName || "(anonymous)"} ${where}${line}`;
}

/** Self and total time (µs) per function label, within the window. */
export function profileTimes(profile: CpuProfile, options: SummaryOptions = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let windowUs = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one (as Chrome DevTools counts it).
    const duration = profile.timeDeltas[i + 1] ?? 0;
    if ((options.from !== undefined && time < options.from) || (options.to !== undefined && time > options.to)) continue;
    windowUs += duration;
    const node = byId.get(profile.samples[i]!)!;
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + duration);
    const nodeArea = META.has(node.callFrame.functionName) ? node.callFrame.functionName : area(node.callFrame.url);
    areas.set(nodeArea, (areas.get(nodeArea) ?? 0) + duration);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const ancestor = label(byId.get(id)!);
      if (seen.has(ancestor)) continue;
      seen.add(ancestor);
      total.set(ancestor, (total.get(ancestor) ?? 0) + duration);
    }
  }
  return { self, total, areas, windowUs };
}

/** The summary as text. */
export function summarizeProfile(profile: CpuProfile, options: SummaryOptions = {}): string {
  const top = options.top ?? 25;
  const { self, total, areas, windowUs } = profileTimes(profile, options);
  const idle = self.get("(idle)") ?? 0;
  const busy = windowUs - idle;
  const per = options.per;
  const ms = (us: number) => `${(us / 1000).toFixed(1).padStart(8)} ms`;
  const share = (us: number) => `${((100 * us) / Math.max(busy, 1)).toFixed(1).padStart(5)}%`;
  const perExec = (us: number) => (per ? `${(us / per).toFixed(0).padStart(6)} µs/exec` : "");
  const line = (us: number, name: string) => `${ms(us)} ${share(us)} ${perExec(us)}  ${name}`;
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  const project = sorted(total).filter(([name]) => / (lib|bench)\//.test(name));
  return [
    `window ${ms(windowUs)}, busy (not idle) ${ms(busy)}${per ? ` = ${(busy / per).toFixed(0)} µs per execution over ${per}` : ""}; % are of busy time`,
    "",
    `top ${top} functions by self time:`,
    ...sorted(self).filter(([name]) => name !== "(idle)").slice(0, top).map(([name, us]) => line(us, name)),
    "",
    "self time by area (package, lib/ file, node internals):",
    ...sorted(areas).filter(([name]) => name !== "(idle)").slice(0, 15).map(([name, us]) => line(us, name)),
    "",
    `top ${Math.min(top, 20)} project functions (lib/, bench/) by total time (self + callees):`,
    ...project.slice(0, Math.min(top, 20)).map(([name, us]) => line(us, name)),
  ].join("\n");
}

function main(argv: string[]): void {
  const file = argv[0];
  if (!file) throw new Error("usage: profile-summary <file.cpuprofile> [--top N] [--from µs --to µs] [--per N]");
  const options: SummaryOptions = {};
  for (let i = 1; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value)) throw new Error(`${argv[i]} takes a number`);
    if (argv[i] === "--top") options.top = value;
    else if (argv[i] === "--from") options.from = value;
    else if (argv[i] === "--to") options.to = value;
    else if (argv[i] === "--per") options.per = value;
    else throw new Error(`unknown flag ${argv[i]}`);
  }
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  process.stdout.write(summarizeProfile(profile, options) + "\n");
}

if (require.main === module) main(process.argv.slice(2));
