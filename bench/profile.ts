/**
 * `npm run bench -- --profile [--runs 500]`: where the time of one execution goes, with the
 * daemon in its own process.
 *
 * 1. CPU profiles: the daemon runs under `node --cpu-prof`, the client (this process) under the
 *    inspector's profiler, while `runs`× `1+1` execute; both profiles are summarised (top
 *    functions by self time, within the measured window, per execution) and kept on disk.
 * 2. A timeline of one `1+1` along the path, from a wire tap in both processes
 *    (bench/trace/tap.ts) and the kernel's own header.date stamps, next to the floor's.
 */
import * as fs from "node:fs";
import * as inspector from "node:inspector/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { Session } from "../lib/session/session";
import { registerCleanup } from "./cleanup";
import { FloorKernel } from "./floor-client";
import { OursDaemon } from "./ours-daemon";
import { summarizeProfile, type CpuProfile } from "./profile-summary";
import { FLOOR_STEPS, OURS_STEPS, frameCounts, renderTimeline, timeline, type RunWindow } from "./trace/breakdown";
import { installTap, type TapEvent } from "./trace/tap";
import { median, now, p99, sleep } from "./stats";

const SAMPLING_US = 250;

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

async function readySession(daemon: OursDaemon, warmup: number, code: string): Promise<{ session: Session; cellId: string }> {
  const session = daemon.session(`bench-profile-${process.pid}`);
  await session.connect();
  await session.startKernel();
  await daemon.waitPoolSettled();
  const cellId = session.createCell(code);
  for (let i = 0; i < warmup; i++) await session.executeCell(cellId);
  return { session, cellId };
}

/** Pass 1: CPU profiles of both processes while `runs`× `1+1` execute. */
async function cpuProfiles(workDir: string, outDir: string, runs: number, code: string): Promise<string> {
  const daemon = await OursDaemon.start(path.join(workDir, "cache-profile"), {
    // No --cpu-prof-name: tsx's loader hooks run in a worker thread that writes a profile too,
    // and one fixed name would let it overwrite the main thread's. Node names them
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; the main thread is thread 0.
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${path.join(outDir, "daemon")}`, `--cpu-prof-interval=${SAMPLING_US}`],
  });
  const unregister = registerCleanup(() => daemon.stop(), () => daemon.kill());
  const profiler = new inspector.Session();
  profiler.connect();
  let from = 0;
  let to = 0;
  const samples: number[] = [];
  try {
    const { session, cellId } = await readySession(daemon, 50, code);
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.setSamplingInterval", { interval: SAMPLING_US });
    await profiler.post("Profiler.start");
    from = monotonicUs();
    for (let i = 0; i < runs; i++) {
      const started = now();
      await session.executeCell(cellId);
      samples.push(now() - started);
    }
    to = monotonicUs();
    const { profile } = await profiler.post("Profiler.stop");
    fs.writeFileSync(path.join(outDir, "client.cpuprofile"), JSON.stringify(profile));
  } finally {
    profiler.disconnect();
    // A graceful stop: the daemon writes its profile as it exits.
    await daemon.stop();
    unregister();
  }
  const mainThread = fs.readdirSync(path.join(outDir, "daemon")).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
  if (!mainThread) throw new Error(`the daemon wrote no main-thread profile to ${path.join(outDir, "daemon")}`);
  const daemonFile = path.join(outDir, "daemon.cpuprofile");
  fs.renameSync(path.join(outDir, "daemon", mainThread), daemonFile);
  fs.rmSync(path.join(outDir, "daemon"), { recursive: true, force: true });
  const daemonProfile = JSON.parse(fs.readFileSync(daemonFile, "utf8")) as CpuProfile;
  const clientProfile = JSON.parse(fs.readFileSync(path.join(outDir, "client.cpuprofile"), "utf8")) as CpuProfile;
  return [
    `${runs}× ${code} under the profilers (sampling every ${SAMPLING_US} µs): median ${median(samples).toFixed(2)} ms, p99 ${p99(samples).toFixed(2)} ms per execution (profiling slows both processes)`,
    "",
    `== daemon (its own process, node --cpu-prof), the ${runs} executions only ==`,
    summarizeProfile(daemonProfile, { from, to, per: runs, top: 25 }),
    "",
    `== client (this process: Session, inspector profiler) ==`,
    summarizeProfile(clientProfile, { per: runs, top: 25 }),
    "",
    `profiles kept in ${outDir} (open in Chrome DevTools → Performance, or: npx tsx bench/profile-summary.ts ${daemonFile} --from ${from} --to ${to} --per ${runs})`,
  ].join("\n");
}

/** Pass 2: the wire-tapped path of `runs`× `1+1` through ours, and through the floor for comparison. */
async function pathTimeline(workDir: string, runs: number, code: string): Promise<string> {
  const tapFile = path.join(workDir, "daemon-tap.json");
  const daemon = await OursDaemon.start(path.join(workDir, "cache-tap"), {
    entry: path.join(__dirname, "trace", "daemon-entry.ts"),
    env: { BENCH_TAP_FILE: tapFile },
  });
  const unregister = registerCleanup(() => daemon.stop(), () => daemon.kill());
  const floor = await FloorKernel.launch(workDir);
  const unregisterFloor = registerCleanup(() => floor.shutdown(), () => floor.kill());
  const ours: RunWindow[] = [];
  const floorRuns: RunWindow[] = [];
  let clientEvents: TapEvent[] = [];
  try {
    const { session, cellId } = await readySession(daemon, 20, code);
    for (let i = 0; i < 20; i++) await floor.execute(code);
    const tap = installTap();
    try {
      for (let i = 0; i < runs; i++) {
        let start = epochMs();
        await session.executeCell(cellId);
        ours.push({ start, end: epochMs() });
        await sleep(5);
        start = epochMs();
        await floor.execute(code);
        floorRuns.push({ start, end: epochMs() });
        await sleep(5);
      }
    } finally {
      tap.uninstall();
    }
    clientEvents = tap.decode();
  } finally {
    await floor.shutdown();
    unregisterFloor();
    await daemon.stop();
    unregister();
  }
  const daemonEvents = JSON.parse(fs.readFileSync(tapFile, "utf8")) as TapEvent[];
  const events = { client: clientEvents, daemon: daemonEvents };
  const protocol = (event: TapEvent) => !event.what.startsWith("zmq");
  return [
    `${code} along the path: median of ${runs} runs each, ms since the caller's call (Δ between medians). Client and daemon times from a wire tap on their sockets; kernel times are ipykernel's header.date (same machine, same wall clock; a µs-level offset between clocks is possible)`,
    renderTimeline("ours (Session.executeCell → daemon process → kernel):", timeline(OURS_STEPS, ours, events)),
    `  frames per execution, client → daemon: ${frameCounts(ours, clientEvents, "out", protocol)}`,
    `  frames per execution, daemon → client: ${frameCounts(ours, daemonEvents, "out", protocol)}`,
    `  kernel messages per execution read by the daemon: ${frameCounts(ours, daemonEvents, "in", (event) => event.what.startsWith("zmq") && event.what !== "zmq other")}`,
    renderTimeline("floor (raw ZeroMQ in this process):", timeline(FLOOR_STEPS, floorRuns, { client: clientEvents, daemon: [] })),
  ].join("\n");
}

/** Runs both passes and prints what they found. */
export async function runProfile(runs: number, code = "1+1"): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-bench-"));
  registerCleanup(() => fs.rmSync(workDir, { recursive: true, force: true }), () => fs.rmSync(workDir, { recursive: true, force: true }));
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-profile-"));
  process.stdout.write(`runtimed bench --profile: ${runs}× ${code}, daemon in its own process; load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")}\n\n`);
  process.stdout.write((await cpuProfiles(workDir, outDir, runs, code)) + "\n\n");
  process.stdout.write((await pathTimeline(workDir, Math.min(runs, 200), code)) + "\n");
}
