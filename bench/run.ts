/**
 * `npm run bench [-- --quick] [--json out.json] [--only roundtrip,queue]`: every metric of
 * issue 6 on three clients against the same ipykernel in one run — the raw ZeroMQ floor,
 * jupyter_client (the peer) and this package through its daemon — printed as one table.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { installSignalHandlers, registerCleanup, runCleanup } from "./cleanup";
import type { BenchContext, Metric, Row } from "./context";
import { FloorKernel, KERNEL_PYTHON } from "./floor-client";
import { documentSize } from "./metrics/doc-size";
import { firstResult } from "./metrics/first-result";
import { bigOutput, printFlushed, printUnflushed } from "./metrics/outputs";
import { editPropagation } from "./metrics/propagation";
import { queuedCells } from "./metrics/queue";
import { kernelInfo, roundTrip } from "./metrics/round-trip";
import { outputLatency } from "./metrics/latency";
import { daemonRss } from "./metrics/rss";
import { OursDaemon } from "./ours-daemon";
import { PeerClient } from "./peer-client";
import { renderTable } from "./table";

const METRICS: Metric[] = [roundTrip, kernelInfo, outputLatency, queuedCells, printFlushed, printUnflushed, bigOutput, editPropagation, documentSize, firstResult, daemonRss];

interface Options {
  quick: boolean;
  json: string | undefined;
  only: Set<string> | undefined;
  daemonProcess: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, json: undefined, only: undefined, daemonProcess: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--quick") options.quick = true;
    else if (flag === "--daemon-process") options.daemonProcess = true;
    else if (flag === "--json") options.json = argv[++i];
    else if (flag === "--only") options.only = new Set((argv[++i] ?? "").split(",").filter(Boolean));
    else throw new Error(`Unknown flag ${flag}; use --quick, --daemon-process, --json <file>, --only <${METRICS.map((m) => m.name).join(",")}>`);
  }
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

async function startClients(quick: boolean, workDir: string, daemonProcess: boolean): Promise<BenchContext> {
  const [floor, ours, peer] = await Promise.all([
    FloorKernel.launch(workDir).then((kernel) => {
      registerCleanup(() => kernel.shutdown(), () => kernel.kill());
      return kernel;
    }),
    OursDaemon.start(path.join(workDir, "cache"), daemonProcess).then((daemon) => {
      registerCleanup(() => daemon.stop(), () => daemon.kill());
      return daemon;
    }),
    PeerClient.start(workDir).then((client) => {
      registerCleanup(() => client.stop(), () => client.kill());
      return client;
    }),
  ]);
  const oursSession = ours.session(`bench-main-${process.pid}`);
  await oursSession.connect();
  await Promise.all([oursSession.startKernel(), peer.available ? peer.expect({ op: "start", name: "main" }) : Promise.resolve()]);
  return { quick, workDir, floor, ours, oursSession, peer, peerKernel: "main" };
}

async function main(): Promise<void> {
  installSignalHandlers();
  // `--gateway`: the Jupyter gateway benchmark, its own table (bench/gateway.ts).
  if (process.argv.includes("--gateway")) return (await import("./gateway")).runGatewayBench(process.argv.slice(2));
  const options = parseOptions(process.argv.slice(2));
  process.env.PYDEVD_DISABLE_FILE_VALIDATION = "1";
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-bench-"));
  registerCleanup(() => fs.rmSync(workDir, { recursive: true, force: true }), () => fs.rmSync(workDir, { recursive: true, force: true }));
  const info = machineInfo();
  info.ours_daemon = options.daemonProcess ? "separate process (node --import tsx lib/daemon/main.ts)" : "in-process (Daemon.start)";
  process.stdout.write(`runtimed bench${options.quick ? " (--quick)" : ""} — ${Object.entries(info).map(([k, v]) => `${k}: ${v}`).join(", ")}\n`);

  const started = Date.now();
  const context = await startClients(options.quick, workDir, options.daemonProcess);
  if (!context.peer.available) process.stdout.write(`peer: n/a (${context.peer.unavailable})\n`);
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
  process.stdout.write(`\n${renderTable(rows, context.peer.unavailable)}\n\nload average after: ${info.load_average_after}; ${info.duration_s} s\n`);
  for (const failure of failures) process.stdout.write(`\nFAILED ${failure}\n`);
  if (options.json) {
    fs.writeFileSync(options.json, JSON.stringify({ machine: info, daemon_process: options.daemonProcess, quick: options.quick, peer: context.peer.unavailable ?? "jupyter_client", rows, failures }, null, 2));
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
