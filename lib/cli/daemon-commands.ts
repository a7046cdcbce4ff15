import * as fs from "node:fs";
import type { Daemon } from "../daemon/daemon";
import { isLoopbackHost, parsePort, resolveFaceConfig, splitList, type FaceConfigOptions } from "../daemon/face-config";
import { GATEWAY_ENV, gatewayConfigFromEnv, type GatewayConfig } from "../gateway/gateway-config";
import { RuntimedError } from "../protocol/errors";
import { pageUrl } from "../protocol/page-url";
import { daemonFiles } from "../transport/paths";
import { PACKAGE_VERSION } from "../protocol/version";
import { isAlive, spawnDaemon, startFailed, takeStartError } from "../transport/autostart";
import { DaemonClient, type DaemonStatusReport, type GatewayReport } from "../transport/daemon-client";
import { UsageError, parseCommandArgs, positiveNumber, wantsHelp } from "./args";
import type { CliContext } from "./context";
import { formatBytes, formatDuration, plural } from "./format";
import { followFile, readLastLines } from "./log-tail";
import { waitForSignal } from "./signals";

/** Help for `runtimed daemon`. */
export const daemonHelp = `Usage: runtimed daemon <command> [options]

Run and inspect the runtimed daemon, the process that owns notebook rooms and kernels.
Sessions start it on demand; these commands are for seeing and controlling it by hand.

Commands:
  start [--foreground]   Start the daemon (detached, or in this terminal with --foreground;
                         Ctrl-C stops it). Exits 0 when one is already running.
    --host H             Address of its HTTP/WebSocket face (default: $RUNTIMED_HOST, else
                         127.0.0.1; anything else is reachable from other machines)
    --port P             Its port (default: $RUNTIMED_PORT, else 0: any free port; a fixed
                         port keeps page URLs stable)
    --allow-origin O     A web origin (https://app.example.com) whose pages may open the
                         daemon's WebSocket; repeat it or separate with commas
                         (default: $RUNTIMED_ALLOW_ORIGIN)
        [--gateway-url URL] [--gateway-token T]
                         Start kernels on a Jupyter Server / Enterprise Gateway
                         (default: $JUPYTER_GATEWAY_URL, $JUPYTER_GATEWAY_AUTH_TOKEN).
  stop                   Ask the daemon to shut down (kernels stopped, rooms saved).
  status [--json]        Version, pid, uptime, socket, cache dir, url, token, rooms, pool, gateway.
                         Exits 1 when no daemon is running.
  logs [-f] [-n N]       Print the last N lines (default 50) of the daemon log;
                         -f keeps printing new lines until Ctrl-C (across rotations).
  gc [--grace SECS] [--json]
                         Remove stored outputs (blobs) no notebook refers to any more,
                         except those younger than SECS (default: the daemon's, 600;
                         with 0, a cell running right now may lose its newest output).
                         The daemon also does this on its own, hourly.

Options for every command:
  --socket PATH          The daemon's socket (default: $RUNTIMED_SOCKET_PATH, else <cache dir>/runtimed.sock)
  --cache-dir DIR        The daemon's cache dir (default: $RUNTIMED_CACHE_DIR, else ~/.cache/runtimed)
  -h, --help             Show this help
`;

const HELP_COMMAND = "runtimed daemon --help";
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

/** `runtimed daemon <start|stop|status|logs|gc>`; resolves with the exit code. */
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
        {
          foreground: { type: "boolean" },
          host: { type: "string" },
          port: { type: "string" },
          "allow-origin": { type: "string", multiple: true },
          "gateway-url": { type: "string" },
          "gateway-token": { type: "string" },
        },
        HELP_COMMAND,
      );
      const face = faceOptions(values.host, values.port, values["allow-origin"]);
      const flags = { url: values["gateway-url"], token: values["gateway-token"] };
      if (flags.token !== undefined && flags.url === undefined && !process.env[GATEWAY_ENV.url]) {
        throw new UsageError("--gateway-token needs --gateway-url (or JUPYTER_GATEWAY_URL)", HELP_COMMAND);
      }
      // Checked here, so that a malformed URL or header is reported before a daemon is spawned.
      const gateway = gatewayConfigFromEnv(process.env, { url: flags.url, authToken: flags.token });
      return values.foreground ? startForeground(context, face, gateway) : startDetached(context, face, flags, gateway);
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
    case "gc": {
      const { values } = parseCommandArgs(rest, { grace: { type: "string" }, json: { type: "boolean" } }, HELP_COMMAND);
      return collectGarbage(context, nonNegativeNumber(values.grace, "--grace"), values.json === true);
    }
    case undefined:
      context.stderr.write(daemonHelp);
      return 2;
    default:
      throw new UsageError(`Unknown daemon command '${subcommand}'; use start, stop, status, logs or gc`, HELP_COMMAND);
  }
}

/** `--host` / `--port` / `--allow-origin` checked now, so a typo is a usage error, not a failed start. */
function faceOptions(host: string | undefined, port: string | undefined, origins: string[] | undefined): FaceConfigOptions {
  try {
    const options = { host, port: port === undefined ? undefined : parsePort(port, "--port"), allowOrigins: origins?.flatMap(splitList) };
    const config = resolveFaceConfig(options, {});
    return { host: host === undefined ? undefined : config.host, port: options.port, allowOrigins: origins === undefined ? undefined : config.allowOrigins };
  } catch (error) {
    const message = (error as Error).message.replace(/^(host|allowOrigins) /, (_, name: string) => (name === "host" ? "--host " : "--allow-origin "));
    throw new UsageError(message, HELP_COMMAND);
  }
}

/** The entry point's arguments for the options given on this command line (the rest come from the environment). */
function faceArgs(face: FaceConfigOptions): string[] {
  const args: string[] = [];
  if (face.host !== undefined) args.push("--host", face.host);
  if (face.port !== undefined) args.push("--port", String(face.port));
  for (const origin of face.allowOrigins ?? []) args.push("--allow-origin", origin);
  return args;
}

/** Warns on stderr when the daemon's network face is reachable from other machines. */
function warnIfExposed(context: CliContext, host: string): void {
  if (isLoopbackHost(host)) return;
  context.stderr.write(
    `warning: the daemon listens on ${host}, reachable from other machines: anyone with its token can run code as you. ` +
      `The token is in \`runtimed daemon status\`; keep it secret.\n`,
  );
}

async function startDetached(context: CliContext, face: FaceConfigOptions, flags: { url?: string; token?: string }, gateway: GatewayConfig | undefined): Promise<number> {
  const client = new DaemonClient({ socketPath: context.socketPath });
  const running = await statusIfRunning(client);
  if (running) {
    context.stdout.write(`runtimed daemon already running (pid ${running.pid}) at ${running.socketPath}\n`);
    if (faceArgs(face).length > 0) {
      context.stderr.write(`note: --host, --port and --allow-origin apply when a daemon starts; this one serves ${running.url} (stop it first to change that)\n`);
    }
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
    args: [...faceArgs(face), ...(flags.url ? ["--gateway-url", flags.url] : [])],
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
          `  url     ${report.url}\n` +
          (report.gateway ? `  gateway ${describeGateway(report.gateway)}\n` : ""),
      );
      warnIfExposed(context, report.host);
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

async function startForeground(context: CliContext, face: FaceConfigOptions, gateway: GatewayConfig | undefined): Promise<number> {
  const log = daemonFiles(context.cacheDir).log;
  const logOffset = fileSize(log);
  const signal = waitForSignal();
  let daemon: Daemon;
  try {
    // Only this command needs the daemon's code (kernels, ZeroMQ); load it here.
    const { Daemon: DaemonClass } = await import("../daemon/daemon");
    daemon = await DaemonClass.start({ socketPath: context.socketPath, cacheDir: context.cacheDir, ...face, allowOrigins: face.allowOrigins && [...face.allowOrigins], gateway: gateway ?? false });
  } catch (error) {
    signal.dispose();
    throw error;
  }
  const { url, host } = daemon.status();
  const gatewayLine = gateway ? `  kernels on the gateway ${gateway.url}\n` : "";
  context.stderr.write(`runtimed daemon ${PACKAGE_VERSION} (pid ${process.pid}) serving ${daemon.socketPath}\n  url ${url}\n  log ${log}\n${gatewayLine}Press Ctrl-C to stop.\n`);
  warnIfExposed(context, host);
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
    ["url", report.url],
    ["token", report.token],
    ["page", pageUrl(report.url, report.token)],
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

async function collectGarbage(context: CliContext, graceSecs: number | undefined, json: boolean): Promise<number> {
  const client = new DaemonClient({ socketPath: context.socketPath });
  if (!(await client.isRunning())) {
    context.stderr.write(`No runtimed daemon is running at ${context.socketPath}; blobs are collected by a running daemon (\`runtimed daemon start\`)\n`);
    return 1;
  }
  const report = await client.collectGarbage({ graceSecs });
  if (json) {
    context.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else if (report.skipped) {
    context.stderr.write(`Nothing collected: ${report.skipped}\n`);
  } else {
    context.stdout.write(`Removed ${plural(report.removed, "blob")} (${formatBytes(report.freedBytes)} freed); kept ${report.kept}\n`);
  }
  return report.skipped ? 1 : 0;
}

function nonNegativeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0) throw new UsageError(`${flag} takes a number of seconds (0 or more), not '${value}'`, HELP_COMMAND);
  return number;
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
