import * as fs from "node:fs";
import type { Daemon } from "../daemon/daemon";
import { GATEWAY_ENV, gatewayConfigFromEnv, type GatewayConfig } from "../gateway/gateway-config";
import { RuntimedError } from "../protocol/errors";
import { daemonFiles } from "../protocol/paths";
import { PACKAGE_VERSION } from "../protocol/version";
import { isAlive, spawnDaemon, startFailed, takeStartError } from "../transport/autostart";
import { DaemonClient, type DaemonStatusReport, type GatewayReport } from "../transport/daemon-client";
import { UsageError, parseCommandArgs, positiveNumber, wantsHelp } from "./args";
import type { CliContext } from "./context";
import { formatDuration } from "./format";
import { followFile, readLastLines } from "./log-tail";
import { waitForSignal } from "./signals";

/** Help for `runtimed daemon`. */
export const daemonHelp = `Usage: runtimed daemon <command> [options]

Run and inspect the runtimed daemon, the process that owns notebook rooms and kernels.
Sessions start it on demand; these commands are for seeing and controlling it by hand.

Commands:
  start [--foreground]   Start the daemon (detached, or in this terminal with --foreground;
                         Ctrl-C stops it). Exits 0 when one is already running.
        [--gateway-url URL] [--gateway-token T]
                         Start kernels on a Jupyter Server / Enterprise Gateway
                         (default: $JUPYTER_GATEWAY_URL, $JUPYTER_GATEWAY_AUTH_TOKEN).
  stop                   Ask the daemon to shut down (kernels stopped, rooms saved).
  status [--json]        Version, pid, uptime, socket, cache dir, rooms, pool and gateway.
                         Exits 1 when no daemon is running.
  logs [-f] [-n N]       Print the last N lines (default 50) of the daemon log;
                         -f keeps printing new lines until Ctrl-C.

Options for every command:
  --socket PATH          The daemon's socket (default: $RUNTIMED_SOCKET_PATH, else <cache dir>/runtimed.sock)
  --cache-dir DIR        The daemon's cache dir (default: $RUNTIMED_CACHE_DIR, else ~/.cache/runtimed)
  -h, --help             Show this help
`;

const HELP_COMMAND = "runtimed daemon --help";
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

/** `runtimed daemon <start|stop|status|logs>`; resolves with the exit code. */
export async function daemonCommand(argv: string[], context: CliContext): Promise<number> {
  if (wantsHelp(argv)) {
    context.stdout.write(daemonHelp);
    return 0;
  }
  const [subcommand, ...rest] = argv;
  switch (subcommand) {
    case "start": {
      const { values } = parseCommandArgs(
        rest,
        { foreground: { type: "boolean" }, "gateway-url": { type: "string" }, "gateway-token": { type: "string" } },
        HELP_COMMAND,
      );
      const flags = { url: values["gateway-url"], token: values["gateway-token"] };
      if (flags.token !== undefined && flags.url === undefined && !process.env[GATEWAY_ENV.url]) {
        throw new UsageError("--gateway-token needs --gateway-url (or JUPYTER_GATEWAY_URL)", HELP_COMMAND);
      }
      // Checked here, so that a malformed URL or header is reported before a daemon is spawned.
      const gateway = gatewayConfigFromEnv(process.env, { url: flags.url, authToken: flags.token });
      return values.foreground ? startForeground(context, gateway) : startDetached(context, flags, gateway);
    }
    case "stop":
      parseCommandArgs(rest, {}, HELP_COMMAND);
      return stop(context);
    case "status": {
      const { values } = parseCommandArgs(rest, { json: { type: "boolean" } }, HELP_COMMAND);
      return status(context, values.json === true);
    }
    case "logs": {
      const { values } = parseCommandArgs(rest, { follow: { type: "boolean", short: "f" }, lines: { type: "string", short: "n" } }, HELP_COMMAND);
      const lines = positiveNumber(values.lines, "-n", HELP_COMMAND) ?? 50;
      return logs(context, Math.floor(lines), values.follow === true);
    }
    case undefined:
      context.stderr.write(daemonHelp);
      return 2;
    default:
      throw new UsageError(`Unknown daemon command '${subcommand}'; use start, stop, status or logs`, HELP_COMMAND);
  }
}

async function startDetached(context: CliContext, flags: { url?: string; token?: string }, gateway: GatewayConfig | undefined): Promise<number> {
  const client = new DaemonClient({ socketPath: context.socketPath });
  const running = await statusIfRunning(client);
  if (running) {
    context.stdout.write(`runtimed daemon already running (pid ${running.pid}) at ${running.socketPath}\n`);
    if (gateway && running.gateway?.url !== gateway.url) {
      context.stderr.write(
        `  it ${running.gateway ? `uses the gateway ${running.gateway.url}` : "has no gateway"}, not ${gateway.url}; ` +
          "stop it first (`runtimed daemon stop`) to change that\n",
      );
    }
    return 0;
  }
  // The token travels in the environment, not on the command line, where `ps` would show it.
  const started = spawnDaemon(context.socketPath, context.cacheDir, {
    args: flags.url ? ["--gateway-url", flags.url] : [],
    env: flags.token ? { [GATEWAY_ENV.authToken]: flags.token } : {},
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    const report = await statusIfRunning(client);
    if (report) {
      takeStartError(started.stderrFile);
      const raced = report.pid !== started.pid;
      context.stdout.write(
        `runtimed daemon ${raced ? "already running" : "started"} (pid ${report.pid})\n` +
          `  socket  ${report.socketPath}\n` +
          `  log     ${daemonFiles(report.cacheDir).log}\n` +
          (report.gateway ? `  gateway ${describeGateway(report.gateway)}\n` : ""),
      );
      return 0;
    }
    if (!isAlive(started.pid)) {
      const detail = takeStartError(started.stderrFile);
      // Someone else started one at the same moment: wait for it to answer.
      if (!/already serves|already answers/.test(detail)) throw startFailed(context.socketPath, detail);
    }
  }
  throw startFailed(context.socketPath, `no answer within ${START_TIMEOUT_MS / 1000} s (pid ${started.pid})`);
}

async function startForeground(context: CliContext, gateway: GatewayConfig | undefined): Promise<number> {
  const log = daemonFiles(context.cacheDir).log;
  const logOffset = fileSize(log);
  const signal = waitForSignal();
  let daemon: Daemon;
  try {
    // Only this command needs the daemon's code (kernels, ZeroMQ); load it here.
    const { Daemon: DaemonClass } = await import("../daemon/daemon");
    daemon = await DaemonClass.start({ socketPath: context.socketPath, cacheDir: context.cacheDir, gateway: gateway ?? false });
  } catch (error) {
    signal.dispose();
    throw error;
  }
  const gatewayLine = gateway ? `  kernels on the gateway ${gateway.url}\n` : "";
  context.stderr.write(`runtimed daemon ${PACKAGE_VERSION} (pid ${process.pid}) serving ${daemon.socketPath}\n  log ${log}\n${gatewayLine}Press Ctrl-C to stop.\n`);
  // The daemon logs to its file only; in the foreground a person wants to watch it too.
  const follower = followFile(log, logOffset, (text) => context.stderr.write(text));
  try {
    const stoppedBy = await Promise.race([signal.received, daemon.stopped.then(() => null)]);
    if (stoppedBy) context.stderr.write(`\n${stoppedBy}: stopping the daemon...\n`);
    await daemon.stop();
  } finally {
    follower.stop();
    signal.dispose();
  }
  return 0;
}

async function stop(context: CliContext): Promise<number> {
  const client = new DaemonClient({ socketPath: context.socketPath });
  const running = await statusIfRunning(client);
  if (!running) {
    context.stdout.write(`No runtimed daemon is running at ${context.socketPath}\n`);
    return 0;
  }
  await client.shutdown();
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  // The daemon removes its socket as the last step of a clean stop.
  while (fs.existsSync(running.socketPath)) {
    if (Date.now() > deadline) {
      throw new RuntimedError(
        "TIMEOUT",
        `The daemon (pid ${running.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; see \`runtimed daemon logs\`, or end it with \`kill ${running.pid}\``,
      );
    }
    await sleep(POLL_MS);
  }
  context.stdout.write(`runtimed daemon stopped (pid ${running.pid})\n`);
  return 0;
}

async function status(context: CliContext, json: boolean): Promise<number> {
  const report = await statusIfRunning(new DaemonClient({ socketPath: context.socketPath }));
  if (!report) {
    if (json) context.stdout.write(JSON.stringify({ running: false, socketPath: context.socketPath }, null, 2) + "\n");
    else context.stderr.write(`No runtimed daemon is running at ${context.socketPath}; start one with \`runtimed daemon start\`\n`);
    return 1;
  }
  if (json) {
    context.stdout.write(JSON.stringify({ running: true, ...report, logFile: daemonFiles(report.cacheDir).log }, null, 2) + "\n");
    return 0;
  }
  const withKernel = report.rooms.filter((room) => room.kernelStatus !== "not_started" && room.kernelStatus !== "dead").length;
  const pool = report.pool.length
    ? report.pool.map((entry) => `${entry.backend}: ${entry.ready} ready, ${entry.building} building`).join("; ")
    : "empty";
  const rows: [string, string][] = [
    ["pid", String(report.pid)],
    ["uptime", formatDuration(report.uptimeSecs)],
    ["socket", report.socketPath],
    ["cache dir", report.cacheDir],
    ["log", daemonFiles(report.cacheDir).log],
    ["rooms", `${report.rooms.length} (${withKernel} with a kernel)`],
    ["pool", pool],
    ["gateway", report.gateway ? describeGateway(report.gateway) : "none (kernels run on this machine)"],
  ];
  context.stdout.write(`runtimed daemon ${report.version} (protocol ${report.protocol}) is running\n`);
  for (const [label, value] of rows) context.stdout.write(`  ${label.padEnd(10)}${value}\n`);
  return 0;
}

async function logs(context: CliContext, lines: number, follow: boolean): Promise<number> {
  // A running daemon knows its cache dir even when this shell's environment differs.
  const running = await statusIfRunning(new DaemonClient({ socketPath: context.socketPath }));
  const log = daemonFiles(running?.cacheDir ?? context.cacheDir).log;
  let offset = 0;
  if (fs.existsSync(log)) {
    const tail = readLastLines(log, lines);
    context.stdout.write(tail.text);
    offset = tail.size;
  } else if (!follow) {
    context.stderr.write(`No daemon log at ${log}; the daemon writes it once started (\`runtimed daemon start\`)\n`);
    return 1;
  } else {
    context.stderr.write(`Waiting for ${log} to appear...\n`);
  }
  if (!follow) return 0;
  const signal = waitForSignal();
  const follower = followFile(log, offset, (text) => context.stdout.write(text));
  try {
    await signal.received;
  } finally {
    follower.stop();
    signal.dispose();
  }
  return 0;
}

/** A gateway in one line: its URL and whether it answers (never the token). */
function describeGateway(gateway: GatewayReport): string {
  if (!gateway.reachable) return `${gateway.url} (not answering: ${gateway.error ?? "no answer"})`;
  const specs = gateway.kernelspecs.length ? `kernelspecs ${gateway.kernelspecs.join(", ")}` : "no kernelspecs";
  return `${gateway.url} (answers; ${specs}${gateway.defaultKernelspec ? `, default ${gateway.defaultKernelspec}` : ""})`;
}

/** The daemon's status, or undefined when none answers at the socket. */
async function statusIfRunning(client: DaemonClient): Promise<DaemonStatusReport | undefined> {
  try {
    return await client.status();
  } catch (error) {
    if (error instanceof RuntimedError && error.code === "DAEMON_UNAVAILABLE") return undefined;
    throw error;
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
