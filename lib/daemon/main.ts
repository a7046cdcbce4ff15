/**
 * Entry point of a detached daemon:
 * `node dist/daemon/main.js [--socket PATH] [--cache-dir DIR] [--host H] [--port P] [--allow-origin O]...
 *   [--gateway-url URL] [--gateway-token T]`.
 * The gateway flags override `JUPYTER_GATEWAY_URL` / `JUPYTER_GATEWAY_AUTH_TOKEN` (the CLI passes
 * the token in that variable instead, so that it does not show in `ps`).
 * Exits 0 after a clean stop, 1 (with a message on stderr) when it cannot serve, and 1 after an
 * error nothing caught, which it first writes with its stack to `daemon.log`.
 */
import * as fs from "node:fs";
import { inspect, parseArgs } from "node:util";
import { gatewayConfigFromEnv } from "../gateway/gateway-config";
import { RuntimedError } from "../protocol/errors";
import { daemonFiles, defaultCacheDir } from "../transport/paths";
import { Daemon } from "./daemon";
import { parsePort, splitList } from "./face-config";

// After a crash, stopping kernels and saving rooms gets this long before the process exits.
const CRASH_STOP_TIMEOUT_MS = 5_000;

let daemon: Daemon | undefined;
let crashing = false;

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      socket: { type: "string" },
      "cache-dir": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "allow-origin": { type: "string", multiple: true },
      "gateway-url": { type: "string" },
      "gateway-token": { type: "string" },
    },
    strict: true,
  });
  const origins = values["allow-origin"]?.flatMap(splitList);
  return {
    socketPath: values.socket,
    cacheDir: values["cache-dir"],
    host: values.host,
    port: values.port === undefined ? undefined : parsePort(values.port, "--port"),
    allowOrigins: origins,
    gateway: gatewayConfigFromEnv(process.env, { url: values["gateway-url"], authToken: values["gateway-token"] }) ?? (false as const),
  };
}

/**
 * Records an error nothing caught, then ends the process. The record is written synchronously,
 * beside the Logger (which may be the thing that broke): a spawned daemon's stderr goes to a
 * file its starter removes, so `daemon.log` is where a person looks.
 */
function crash(kind: "uncaughtException" | "unhandledRejection", error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : inspect(error);
  const record = `${new Date().toISOString()} ERROR daemon crashed (${kind}); exiting\n${detail}\n`;
  try {
    fs.appendFileSync(daemonFiles(daemon?.cacheDir ?? cacheDirArgument() ?? defaultCacheDir()).log, record, { mode: 0o600 });
  } catch {
    // no log to write to: stderr below is all there is
  }
  try {
    process.stderr.write(`runtimed daemon: ${kind}: ${detail}\n`);
  } catch {
    // stderr closed
  }
  if (crashing) process.exit(1);
  crashing = true;
  // Kernels left running would outlive us as orphans, and rooms hold unsaved edits: stop what
  // can be stopped, but a daemon in an unknown state gets a deadline, not a promise. Not a stop
  // on purpose: clients reconnect and start a daemon again.
  setTimeout(() => process.exit(1), CRASH_STOP_TIMEOUT_MS);
  void Promise.resolve()
    .then(() => daemon?.stop({ onPurpose: false }))
    .finally(() => process.exit(1));
}

/** `--cache-dir`, read without parsing the rest (a crash may come before or from the parse). */
function cacheDirArgument(): string | undefined {
  const index = process.argv.indexOf("--cache-dir");
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  process.on("uncaughtException", (error) => crash("uncaughtException", error));
  process.on("unhandledRejection", (reason) => crash("unhandledRejection", reason));
  daemon = await Daemon.start(options());
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => void daemon?.stop());
  await daemon.stopped;
  // A stop that a crash began still ends in failure.
  process.exit(crashing ? 1 : 0);
}

main().catch((error: unknown) => {
  const message = error instanceof RuntimedError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`runtimed daemon: ${message}\n`);
  process.exit(1);
});
