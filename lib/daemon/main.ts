/**
 * Entry point of a detached daemon:
 * `node dist/daemon/main.js [--socket PATH] [--cache-dir DIR] [--gateway-url URL] [--gateway-token T]`.
 * The gateway flags override `JUPYTER_GATEWAY_URL` / `JUPYTER_GATEWAY_AUTH_TOKEN` (the CLI passes
 * the token in that variable instead, so that it does not show in `ps`).
 * Exits 0 after a clean stop, 1 (with a message on stderr) when it cannot serve.
 */
import { gatewayConfigFromEnv } from "../gateway/gateway-config";
import { RuntimedError } from "../protocol/errors";
import { Daemon } from "./daemon";

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const gateway = gatewayConfigFromEnv(process.env, { url: argument("--gateway-url"), authToken: argument("--gateway-token") });
  const daemon = await Daemon.start({ socketPath: argument("--socket"), cacheDir: argument("--cache-dir"), gateway: gateway ?? false });
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => void daemon.stop());
  await daemon.stopped;
  process.exit(0);
}

main().catch((error: unknown) => {
  const message = error instanceof RuntimedError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`runtimed daemon: ${message}\n`);
  process.exit(1);
});
