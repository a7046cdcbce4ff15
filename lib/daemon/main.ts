/**
 * Entry point of a detached daemon:
 * `node dist/daemon/main.js [--socket PATH] [--cache-dir DIR] [--host H] [--port P] [--allow-origin O]...`.
 * Exits 0 after a clean stop, 1 (with a message on stderr) when it cannot serve.
 */
import { parseArgs } from "node:util";
import { RuntimedError } from "../protocol/errors";
import { Daemon } from "./daemon";
import { parsePort, splitList } from "./face-config";

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      socket: { type: "string" },
      "cache-dir": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "allow-origin": { type: "string", multiple: true },
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
  };
}

async function main(): Promise<void> {
  const daemon = await Daemon.start(options());
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => void daemon.stop());
  await daemon.stopped;
  process.exit(0);
}

main().catch((error: unknown) => {
  const message = error instanceof RuntimedError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`runtimed daemon: ${message}\n`);
  process.exit(1);
});
