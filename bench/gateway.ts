/**
 * `npm run bench -- --gateway [--quick]`: `1+1` through this package's daemon to a kernel on a
 * Jupyter Server gateway, against JupyterLab's own client (`@jupyterlab/services`) on the same
 * server, in the same run. Nagle's algorithm, measured: ours runs as shipped (TCP_NODELAY and
 * an eager ACK, see `ChannelsSocket`), without the eager ACK (the server's Nagle waits for our
 * delayed ACK, as it does for JupyterLab), and without TCP_NODELAY; a last row drives
 * `GatewayKernel` directly, without the daemon, to show what the daemon adds.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KernelManager, ServerConnection, type Kernel as LabKernel } from "@jupyterlab/services";
import WebSocket from "ws";
import { Daemon } from "../lib/daemon/daemon";
import { resolveGatewayConfig } from "../lib/gateway/gateway-config";
import { GatewayHttp } from "../lib/gateway/gateway-http";
import { GatewayKernel } from "../lib/gateway/gateway-kernel";
import { Session } from "../lib/session/session";
import { startJupyterServer, type JupyterServer } from "../spec/gateway/jupyter-server";
import { installSignalHandlers, registerCleanup, runCleanup } from "./cleanup";
import { interleave, median, now, p99 } from "./stats";

const BATCH = 10;

/** A way to run `1+1` to its end (reply and idle), and how to stop it. */
interface Client {
  name: string;
  runOnce(): Promise<void>;
}

async function oursThroughDaemon(server: JupyterServer, workDir: string, name: string, tuning: { tcpNoDelay?: boolean; eagerAck?: boolean } = {}): Promise<Client> {
  const cacheDir = fs.mkdtempSync(path.join(workDir, "cache-"));
  const daemon = await Daemon.start({
    cacheDir,
    socketPath: path.join(cacheDir, "runtimed.sock"),
    gateway: { url: server.url, authToken: server.token, ...tuning },
  });
  registerCleanup(() => daemon.stop());
  const session = new Session({ socketPath: daemon.socketPath, cacheDir, autoStart: false, notebookId: "bench-gateway" });
  registerCleanup(() => session.close());
  await session.startKernel();
  const cellId = session.createCell("1+1");
  return {
    name,
    async runOnce() {
      const result = await session.executeCell(cellId);
      if (!result.success) throw new Error("ours: 1+1 failed");
    },
  };
}

async function oursKernelAlone(server: JupyterServer): Promise<Client> {
  const http = new GatewayHttp(resolveGatewayConfig({ url: server.url, authToken: server.token }));
  registerCleanup(() => http.close());
  const model = await http.startKernel("python3", {});
  const kernel = await GatewayKernel.connect({ http, kernelId: model.id, spec: { name: "python3", displayName: "Python 3", language: "python" } });
  registerCleanup(() => kernel.shutdown());
  return {
    name: "ours: GatewayKernel alone (no daemon)",
    async runOnce() {
      const { msgId, reply } = kernel.executeRequest("1+1");
      const idle = new Promise<void>((resolve) => {
        const subscription = kernel.iopub$.subscribe((message) => {
          if (message.parent_header.msg_id === msgId && message.header.msg_type === "status" && message.content.execution_state === "idle") {
            subscription.unsubscribe();
            resolve();
          }
        });
      });
      await Promise.all([reply, idle]);
    },
  };
}

async function jupyterlabServices(server: JupyterServer): Promise<Client> {
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: `${server.url}/`,
    wsUrl: `${server.url.replace(/^http/, "ws")}/`,
    token: server.token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  const manager = new KernelManager({ serverSettings });
  registerCleanup(() => manager.dispose());
  await manager.ready;
  const kernel: LabKernel.IKernelConnection = await manager.startNew({ name: "python3" });
  registerCleanup(() => kernel.shutdown());
  await kernel.info;
  return {
    name: "@jupyterlab/services → same server",
    async runOnce() {
      // `done` resolves once both the reply and the idle status are in, as our executions end.
      await kernel.requestExecute({ code: "1+1" }).done;
    },
  };
}

function batchOf(client: Client): () => Promise<number[]> {
  return async () => {
    const samples: number[] = [];
    for (let i = 0; i < BATCH; i++) {
      const started = now();
      await client.runOnce();
      samples.push(now() - started);
    }
    return samples;
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => "| " + row.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ") + " |";
  return [line(rows[0]!), "|" + widths.map((width) => "-".repeat(width + 2)).join("|") + "|", ...rows.slice(1).map(line)].join("\n");
}

/** Runs the gateway benchmark and prints its table; `argv` may hold `--quick`. */
export async function runGatewayBench(argv: string[]): Promise<void> {
  const quick = argv.includes("--quick");
  const runs = quick ? 60 : 300;
  // Silence JupyterLab's own console chatter ("Starting WebSocket", "Kernel: dead").
  const log = console.log;
  console.log = () => undefined;
  process.env.PYDEVD_DISABLE_FILE_VALIDATION = "1";
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-bench-gateway-"));
  registerCleanup(() => fs.rmSync(workDir, { recursive: true, force: true }));
  const server = await startJupyterServer();
  registerCleanup(() => server.stop());
  process.stdout.write(`runtimed gateway bench${quick ? " (--quick)" : ""} — jupyter_server at ${server.url}, cores: ${os.cpus().length}, load average: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);

  const clients = [
    await oursThroughDaemon(server, workDir, "ours: Session → daemon → gateway"),
    await jupyterlabServices(server),
    await oursThroughDaemon(server, workDir, "ours without the eager ACK", { eagerAck: false }),
    await oursThroughDaemon(server, workDir, "ours without TCP_NODELAY", { tcpNoDelay: false }),
    await oursKernelAlone(server),
  ];
  const batches = Object.fromEntries(clients.map((client) => [client.name, batchOf(client)]));
  await interleave(2, batches); // warm-up: JIT, kernel caches, connections
  const samples = await interleave(runs / BATCH, batches);
  console.log = log;

  const theirs = median(samples[clients[1]!.name]!);
  const rows = [["1+1 to its end, per client", "median", "p99", "median / @jupyterlab/services"]];
  for (const client of clients) {
    const taken = samples[client.name]!;
    rows.push([client.name, `${median(taken).toFixed(2)} ms`, `${p99(taken).toFixed(2)} ms`, `${(median(taken) / theirs).toFixed(2)}×`]);
  }
  process.stdout.write(`\n${table(rows)}\n\n${runs} runs each, interleaved in batches of ${BATCH}, each on its own kernel of the same server.\n`);
  process.stdout.write(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
}

if (require.main === module) {
  installSignalHandlers();
  runGatewayBench(process.argv.slice(2))
    .catch((error: unknown) => {
      process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    })
    .finally(() => runCleanup());
}
