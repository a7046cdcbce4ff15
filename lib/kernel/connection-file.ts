import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";

/** The contents of a Jupyter connection file: where a kernel listens and how it signs. */
export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

/** A connection file on disk; `dispose` removes it (twice is fine). */
export interface ConnectionFile {
  readonly path: string;
  readonly info: ConnectionInfo;
  dispose(): Promise<void>;
  /** Removes the file synchronously, for process-exit hooks. */
  disposeSync(): void;
}

const LOOPBACK = "127.0.0.1";

function freePortHolder(): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as AddressInfo;
      resolve({ port, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

/**
 * Finds `count` distinct free TCP ports on 127.0.0.1 by holding them all open at once, then
 * releasing them. Another process may still take one before the kernel binds it; that is the
 * same window every Jupyter client lives with.
 */
export async function findFreePorts(count: number): Promise<number[]> {
  const holders: { port: number; close: () => Promise<void> }[] = [];
  try {
    for (let i = 0; i < count; i++) holders.push(await freePortHolder());
    return holders.map((holder) => holder.port);
  } finally {
    await Promise.all(holders.map((holder) => holder.close()));
  }
}

/**
 * Writes a fresh connection file for one kernel into `directory` (created 0700 if missing):
 * five free loopback ports and a new random signing key, file mode 0600.
 *
 * ```ts
 * const file = await writeConnectionFile("/home/me/.cache/runtimed/kernels", "python3");
 * // launch with -f file.path ... then
 * await file.dispose();
 * ```
 */
export async function writeConnectionFile(directory: string, kernelName = ""): Promise<ConnectionFile> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const [shell, iopub, stdin, control, hb] = await findFreePorts(5);
  const info: ConnectionInfo = {
    transport: "tcp",
    ip: LOOPBACK,
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
  const path = join(directory, `kernel-${randomUUID()}.json`);
  // "wx": never follow or overwrite something already at the path.
  await writeFile(path, JSON.stringify(info, null, 2), { mode: 0o600, flag: "wx" });

  return {
    path,
    info,
    dispose: () => rm(path, { force: true }).catch(() => undefined),
    disposeSync: () => {
      try {
        rmSync(path, { force: true });
      } catch {
        // Nothing to do at exit if the file cannot be removed.
      }
    },
  };
}

/** The ZeroMQ endpoint of one channel, e.g. `endpoint(info, "shell_port")`. */
export function endpoint(
  info: ConnectionInfo,
  port: "shell_port" | "iopub_port" | "stdin_port" | "control_port" | "hb_port",
): string {
  return `${info.transport}://${info.ip}:${info[port]}`;
}
