/**
 * Edit propagation between processes: one writer process edits a cell every 20 ms, stamping
 * each edit with its time; 10 reader processes, each a `Session` whose `patches$` handler calls
 * `getCells()`, note when each edit shows up. One sample = one edit seen by one reader. Only
 * ours has shared documents. See bench/propagation-child.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { registerCleanup } from "../cleanup";
import type { BenchContext, Metric, Row } from "../context";
import { cpuProfileArgs, killTree, processCpuMs, waitExit } from "../processes";
import type { EditKind, FromChild, ToChild } from "../propagation-child";
import { median, p99 } from "../stats";

const READERS = 10;
const INTERVAL_MS = 20;
/**
 * Unmeasured edits first (5 s), so the figures are of processes past their first-time code
 * paths: lazy modules, JIT, and above all V8's tier-up of Automerge's wasm, which compiles hot
 * functions with TurboFan in the first seconds of use (with 25 warm-up edits, the first tenth of
 * the measured edits had a p50 of ~280 ms, the last tenth ~15 ms). The warm-up's own latency is
 * reported in the notes.
 */
const WARMUP = 250;
/** The pause between the warm-up and the measured edits. */
const SETTLE_MS = 1000;

/** One child process and the messages it sends, awaited by type. */
class Child {
  private readonly waiting = new Map<string, { resolve(message: FromChild): void; reject(error: Error): void }>();
  private readonly received = new Map<string, FromChild>();
  private failure: Error | undefined;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on("message", (message: FromChild) => {
      if (message.type === "error") return this.fail(new Error(`${name}: ${message.message}`));
      const waiter = this.waiting.get(message.type);
      this.waiting.delete(message.type);
      if (waiter) waiter.resolve(message);
      else this.received.set(message.type, message);
    });
    process.on("exit", (code, signal) => this.fail(new Error(`${name} exited (${code ?? signal})`)));
  }

  send(message: ToChild): void {
    if (this.process.connected) this.process.send(message);
  }

  /** The next message of `type` (or one that came before anyone waited), within `ms`. */
  next<T extends FromChild["type"]>(type: T, ms: number): Promise<Extract<FromChild, { type: T }>> {
    const early = this.received.get(type);
    this.received.delete(type);
    if (early) return Promise.resolve(early as Extract<FromChild, { type: T }>);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${ms} ms`)), ms);
      this.waiting.set(type, {
        resolve: (message) => (clearTimeout(timer), resolve(message as Extract<FromChild, { type: T }>)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

function spawnChild(role: "writer" | "reader", name: string, socketPath: string, notebookId: string, kind: EditKind): Child {
  const child = spawn(process.execPath, [...cpuProfileArgs(name.replace(/ /g, "-")), "--import", require.resolve("tsx"), path.join(__dirname, "..", "propagation-child.ts"), role, socketPath, notebookId, kind], {
    cwd: path.join(__dirname, "..", ".."),
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  registerCleanup(() => waitExit(child, 5000), () => child.pid !== undefined && child.exitCode === null && killTree(child.pid));
  return new Child(name, child);
}

/** Edit propagation with edits that rewrite the cell as `# edit <n> at <time>` (~15 characters replaced per edit). */
export const editPropagation: Metric = { name: "propagation", run: (context) => propagation(context, "stamp") };

/** The same with edits that each append one character, as a person types. */
export const typingPropagation: Metric = { name: "propagation_typing", run: (context) => propagation(context, "typing") };

async function propagation(context: BenchContext, kind: EditKind): Promise<Row[]> {
  const edits = context.quick ? 100 : 500;
  const notebookId = `bench-propagation-${randomUUID()}`;
  const writer = spawnChild("writer", "writer", context.ours.socketPath, notebookId, kind);
  const readers = Array.from({ length: READERS }, (_, i) => spawnChild("reader", `reader ${i + 1}`, context.ours.socketPath, notebookId, kind));
  const all = [writer, ...readers];
  try {
    // Eleven Node processes starting at once on a busy machine: be generous.
    await Promise.all(all.map((child) => child.next("ready", 180_000)));
    const daemonCpuBefore = processCpuMs(context.ours.pid);
    writer.send({ type: "start", edits, intervalMs: INTERVAL_MS, warmup: WARMUP, settleMs: SETTLE_MS });
    // Half-way through the pause after the warm-up (everyone idle), every process starts counting
    // its CPU time again, for the figures of the measured edits alone.
    await writer.next("warmedUp", WARMUP * INTERVAL_MS * 10 + 60_000);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS / 2));
    const daemonCpuMeasured = processCpuMs(context.ours.pid);
    for (const reader of readers) reader.send({ type: "measure" });
    const { sent, cpuMs: writerCpu, measuredCpuMs: writerCpuMeasured } = await writer.next("sent", (WARMUP + edits) * INTERVAL_MS * 10 + 60_000);
    for (const reader of readers) reader.send({ type: "report", lastSeq: WARMUP + edits, waitMs: 10_000 });
    const reports = await Promise.all(readers.map((reader) => reader.next("report", 30_000)));
    const daemonCpuAfter = processCpuMs(context.ours.pid);
    const daemonCpu = daemonCpuAfter - daemonCpuBefore;
    const sentAt = new Map(sent.filter(([seq]) => seq > WARMUP));
    const warmupSent = new Map(sent.filter(([seq]) => seq <= WARMUP));
    const warmupSamples: number[] = [];
    for (const { arrivals } of reports) {
      for (const [seq, arrived] of arrivals) {
        const at = warmupSent.get(seq);
        if (at !== undefined) warmupSamples.push(arrived - at);
      }
    }
    const samples: number[] = [];
    // A backlog shows as latency growing through the run: compare its first and last tenth.
    const tenth = Math.max(1, Math.floor(edits / 10));
    const early: number[] = [];
    const late: number[] = [];
    let missing = 0;
    for (const { arrivals } of reports) {
      const seen = new Map(arrivals);
      for (const [seq, at] of sentAt) {
        const arrived = seen.get(seq);
        if (arrived === undefined) {
          missing++;
          continue;
        }
        samples.push(arrived - at);
        if (seq <= WARMUP + tenth) early.push(arrived - at);
        if (seq > WARMUP + edits - tenth) late.push(arrived - at);
      }
    }
    const measured = (arrivals: [number, number][]) => arrivals.filter(([seq]) => seq > WARMUP);
    const batched = reports.reduce((count, { arrivals }) => count + (measured(arrivals).length - new Set(measured(arrivals).map(([, at]) => at)).size), 0);
    const total = WARMUP + edits;
    const readerCpu = reports.reduce((sum, { cpuMs }) => sum + cpuMs, 0) / reports.length;
    const perEdit = (daemonCpu + readerCpu * READERS + writerCpu) / total;
    const readerCpuMeasured = reports.reduce((sum, { measuredCpuMs }) => sum + measuredCpuMs, 0) / reports.length;
    const daemonPerMeasured = (daemonCpuAfter - daemonCpuMeasured) / edits;
    const perMeasured = daemonPerMeasured + (readerCpuMeasured * READERS + writerCpuMeasured) / edits;
    const share = (ms: number) => `${((100 * ms) / (INTERVAL_MS * os.cpus().length)).toFixed(0)}% of ${os.cpus().length} cores at one edit every ${INTERVAL_MS} ms`;
    const cpu = `CPU per edit (all ${total} edits, warm-up and compilation included; load stretches latency far more than CPU time): daemon ${(daemonCpu / total).toFixed(2)} ms, writer ${(writerCpu / total).toFixed(2)} ms, each reader ${(readerCpu / total).toFixed(2)} ms — ${perEdit.toFixed(1)} ms in all, ${share(perEdit)}; the ${edits} measured edits alone: daemon ${daemonPerMeasured.toFixed(2)} ms, writer ${(writerCpuMeasured / edits).toFixed(2)} ms, each reader ${(readerCpuMeasured / edits).toFixed(2)} ms — ${perMeasured.toFixed(1)} ms in all, ${share(perMeasured)}; load average during the run ${os.loadavg()[0]!.toFixed(1)}`;
    const what =
      kind === "stamp"
        ? "each edit rewrites the cell as `# edit <n> at <time>` (~15 characters replaced)"
        : "each edit appends one character to the cell, as a person types (edit n = the cell's length)";
    const notes = [
      `${what}; 1 writer + ${READERS} reader processes (each its own Node process and Session), daemon ${context.ours.separate ? "in its own process" : "in the benchmark's process"}; ${edits} edits, one every ${INTERVAL_MS} ms, after ${WARMUP} unmeasured ones and a 1 s pause; a sample = writer's clock before setSource → reader's clock after its patches$ handler's getCells() shows that edit (or a later one); ${samples.length} samples, ${missing} never seen, ${batched} seen in the same patch as the edit after them; p50 over the first ${tenth} edits ${median(early).toFixed(1)} ms, over the last ${tenth} ${median(late).toFixed(1)} ms (a gap between the two = a backlog: edits came faster than the processes absorbed them); during the ${WARMUP} warm-up edits, processes fresh: p50 ${median(warmupSamples).toFixed(1)} ms, p99 ${p99(warmupSamples).toFixed(1)} ms`,
      cpu,
    ];
    const row = (metric: string, value: number, target: string, met: boolean, rowNotes: string[]): Row => ({ metric, unit: "ms", ours: value, floor: null, jlab: null, target, met, notes: rowNotes });
    return [
      row(`edit propagation${kind === "typing" ? " (typing)" : ""}, writer → ${READERS} reader processes, p50`, median(samples), "< 5 ms", median(samples) < 5 && missing === 0, notes),
      row(`edit propagation${kind === "typing" ? " (typing)" : ""}, writer → ${READERS} reader processes, p99`, p99(samples), "< 30 ms", p99(samples) < 30 && missing === 0, []),
    ];
  } finally {
    for (const child of all) child.send({ type: "close" });
    await Promise.all(all.map((child) => waitExit(child.process, 10_000)));
  }
}
