/**
 * `npm run bench [-- --quick] [--in-process] [--json out.json] [--only roundtrip,queue]`: every
 * metric on three clients against the same ipykernel in one run — this package through its
 * daemon (its own process by default, as users run it), the raw ZeroMQ floor, and
 * @jupyterlab/services through jupyter_server — printed as one table.
 * `npm run bench -- --profile [--runs 500]`: CPU profiles of the per-execution path instead.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { installSignalHandlers, registerCleanup, runCleanup } from "./cleanup";
import type { BenchContext, Metric, Row } from "./context";
import { FloorKernel, KERNEL_PYTHON } from "./floor-client";
import { JlabServer, JLAB_SERVER_NOTE } from "./jlab-client";
import { documentSize } from "./metrics/doc-size";
import { firstResult } from "./metrics/first-result";
import { bigOutput, printFlushed, printUnflushed } from "./metrics/outputs";
import { editPropagation, typingPropagation } from "./metrics/propagation";
import { queuedCells } from "./metrics/queue";
import { kernelInfo, roundTrip } from "./metrics/round-trip";
import { webSocketRoundTrip } from "./metrics/websocket";
import { outputLatency } from "./metrics/latency";
import { daemonRss } from "./metrics/rss";
import { keystroke } from "./metrics/keystroke";
import { OursDaemon } from "./ours-daemon";
import { runProfile } from "./profile";
import { renderTable } from "./table";
import { cpuProfileArgs } from "./processes";

const METRICS: Metric[] = [roundTrip, webSocketRoundTrip, kernelInfo, outputLatency, queuedCells, printFlushed, printUnflushed, bigOutput, editPropagation, typingPropagation, keystroke, documentSize, firstResult, daemonRss];

interface Options {
  quick: boolean;
  json: string | undefined;
  only: Set<string> | undefined;
  inProcess: boolean;
  profile: boolean;
  runs: number;
  /** The cell --profile runs (default `1+1`). */
  code: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, json: undefined, only: undefined, inProcess: false, profile: false, runs: 500, code: "1+1" };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--quick") options.quick = true;
    else if (flag === "--in-process") options.inProcess = true;
    else if (flag === "--profile") options.profile = true;
    else if (flag === "--runs") options.runs = Number(argv[++i]);
    else if (flag === "--code") options.code = argv[++i] ?? "1+1";
    else if (flag === "--json") options.json = argv[++i];
    else if (flag === "--only") options.only = new Set((argv[++i] ?? "").split(",").filter(Boolean));
    else throw new Error(`Unknown flag ${flag}; use --quick, --in-process, --json <file>, --only <${METRICS.map((m) => m.name).join(",")}>, or --profile [--runs N] [--code <python>]`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs takes a positive whole number");
  const unknown = [...(options.only ?? [])].filter((name) => !METRICS.some((metric) => metric.name === name));
  if (unknown.length > 0) throw new Error(`Unknown metric ${unknown.join(", ")}; known: ${METRICS.map((m) => m.name).join(", ")}`);
  return options;
}

function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  let pythonVersions = "unknown";
  try {
    pythonVersions = execFileSync(KERNEL_PYTHON, ["-c", "import sys, ipykernel; print(sys.version.split()[0], 'ipykernel', ipykernel.__version__)"], { encoding: "utf8" }).trim();
  } catch {
    // reported as unknown
  }
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? "unknown",
    load_average: os.loadavg().map((load) => load.toFixed(2)).join(" "),
    memory_gb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    python: `${KERNEL_PYTHON} ${pythonVersions}`,
  };
}

async function startClients(quick: boolean, workDir: string, inProcess: boolean): Promise<BenchContext> {
  // allSettled, not all: when one client fails to start, the others must have finished starting
  // (and registered their cleanup) before the error unwinds into the cleanup.
  const started = await Promise.allSettled([
    FloorKernel.launch(workDir).then((kernel) => {
      registerCleanup(() => kernel.shutdown(), () => kernel.kill());
      return kernel;
    }),
    // The cache dir (socket, documents, envs, kernels' connection files) lives in workDir,
    // which the last cleanup step removes.
    OursDaemon.start(path.join(workDir, "cache"), { inProcess, nodeArgs: cpuProfileArgs("daemon") }).then((daemon) => {
      registerCleanup(() => daemon.stop(), () => daemon.kill());
      return daemon;
    }),
    JlabServer.start(workDir).then((server) => {
      registerCleanup(() => server.stop(), () => server.kill());
      return server;
    }),
  ]);
  const failed = started.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  const [floor, ours, jlab] = started.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [FloorKernel, OursDaemon, JlabServer];
  const oursSession = ours.session(`bench-main-${process.pid}`);
  await oursSession.connect();
  const [, jlabKernel] = await Promise.all([oursSession.startKernel(), jlab.available ? jlab.startKernel() : Promise.resolve(undefined)]);
  // The daemon prewarms environments and a kernel at start: let that finish before measuring.
  await ours.waitPoolSettled();
  // A few executions on each client first, so that `--only <metric>` does not measure JIT
  // warm-up and first-time code paths (the first metric of a full run would otherwise).
  const warmCell = oursSession.createCell("1+1");
  for (let i = 0; i < 20; i++) {
    await oursSession.executeCell(warmCell);
    await floor.execute("1+1");
    if (jlabKernel) await JlabServer.execute(jlabKernel, "1+1");
  }
  return { quick, workDir, floor, ours, oursSession, jlab, jlabKernel };
}

async function main(): Promise<void> {
  installSignalHandlers();
  // `--gateway`: the Jupyter gateway benchmark, its own table (bench/gateway.ts).
  if (process.argv.includes("--gateway")) return (await import("./gateway")).runGatewayBench(process.argv.slice(2));
  const options = parseOptions(process.argv.slice(2));
  process.env.PYDEVD_DISABLE_FILE_VALIDATION = "1";
  if (options.profile) return runProfile(options.runs, options.code);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-bench-"));
  registerCleanup(() => fs.rmSync(workDir, { recursive: true, force: true }), () => fs.rmSync(workDir, { recursive: true, force: true }));
  const info = machineInfo();
  process.stdout.write(`runtimed bench${options.quick ? " (--quick)" : ""} — ${Object.entries(info).map(([k, v]) => `${k}: ${v}`).join(", ")}\n`);

  const started = Date.now();
  const context = await startClients(options.quick, workDir, options.inProcess);
  info.ours_daemon = context.ours.description;
  info.jlab = context.jlab.available ? `jupyter_server ${context.jlab.version}: ${JLAB_SERVER_NOTE}` : `n/a (${context.jlab.unavailable})`;
  process.stdout.write(`ours: ${info.ours_daemon}\n@jupyterlab/services: ${info.jlab}\n`);
  const rows: Row[] = [];
  const failures: string[] = [];
  for (const metric of METRICS) {
    if (options.only && !options.only.has(metric.name)) continue;
    const metricStarted = Date.now();
    process.stdout.write(`… ${metric.name}`);
    try {
      const metricRows = await metric.run(context);
      rows.push(...metricRows);
      process.stdout.write(` (${((Date.now() - metricStarted) / 1000).toFixed(1)} s)\n`);
    } catch (error) {
      const message = (error as Error).stack ?? String(error);
      failures.push(`${metric.name}: ${message}`);
      process.stdout.write(` FAILED: ${(error as Error).message}\n`);
    }
  }
  info.load_average_after = os.loadavg().map((load) => load.toFixed(2)).join(" ");
  info.duration_s = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`\n${renderTable(rows)}\n\nload average after: ${info.load_average_after}; ${info.duration_s} s\n`);
  for (const failure of failures) process.stdout.write(`\nFAILED ${failure}\n`);
  if (options.json) {
    fs.writeFileSync(options.json, JSON.stringify({ machine: info, in_process: options.inProcess, quick: options.quick, rows, failures }, null, 2));
    process.stdout.write(`wrote ${options.json}\n`);
  }
  if (failures.length > 0) process.exitCode = 1;
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => runCleanup());
