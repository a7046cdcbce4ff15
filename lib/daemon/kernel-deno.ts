import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Kernel } from "../kernel/kernel";
import type { KernelSpec } from "../kernel/kernelspec";
import { RuntimedError } from "../protocol/errors";
import { settleIdle } from "./kernel-iopub-settle";

/** How long Deno's outputs may trail its idle status (observed: up to ~20 ms under load). */
const DENO_IDLE_SETTLE_MS = 50;

/** The npm package that ships deno's binary for this platform, e.g. `@deno/linux-x64-glibc`. */
function platformPackage(): string {
  const libc = process.platform === "linux" ? "-glibc" : "";
  return `@deno/${process.platform}-${process.arch}${libc}`;
}

function binaryIn(packageName: string, executable: string): string | undefined {
  try {
    const candidate = path.join(path.dirname(require.resolve(`${packageName}/package.json`)), executable);
    fs.accessSync(candidate, fs.constants.X_OK);
    return candidate;
  } catch {
    return undefined;
  }
}

/**
 * The `deno` executable: `$DENO_BIN`, else the binary of the npm `deno` dependency (its
 * platform package, else the copy its install script puts beside it). Rejects with
 * KERNEL_FAILED saying how to install it.
 */
export function denoBinary(): string {
  if (process.env.DENO_BIN) return process.env.DENO_BIN;
  const executable = process.platform === "win32" ? "deno.exe" : "deno";
  const found = binaryIn(platformPackage(), executable) ?? binaryIn("deno", executable);
  if (found === undefined) {
    throw new RuntimedError(
      "KERNEL_FAILED",
      `No deno binary found (looked for ${platformPackage()} and the deno package); run \`npm install deno\` or set DENO_BIN to a deno executable`,
    );
  }
  return found;
}

/** Where deno caches by default when DENO_DIR is unset (deno's own rule). */
function defaultDenoDir(): string {
  if (process.platform === "darwin") return path.join(os.homedir(), "Library", "Caches", "deno");
  if (process.platform === "win32") return path.join(process.env.LOCALAPPDATA ?? os.homedir(), "deno");
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "deno");
}

function writableDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The DENO_DIR a Deno kernel should use: the user's (`$DENO_DIR` or deno's default, so that
 * modules they cached are reused) when writable, else `<cacheDir>/deno` — deno refuses to
 * start without a writable cache.
 */
export function denoDir(cacheDir: string): string {
  if (process.env.DENO_DIR) return process.env.DENO_DIR;
  const preferred = defaultDenoDir();
  return writableDir(preferred) ? preferred : path.join(cacheDir, "deno");
}

/**
 * The kernelspec of Deno's built-in Jupyter kernel. Its interrupt mode is `message`: deno
 * exits on SIGINT, while an `interrupt_request` terminates a busy script and leaves the kernel
 * running (deno 2.x does not interrupt a cell that is awaiting a promise).
 */
export function denoKernelSpec(binary: string, cacheDir: string): KernelSpec {
  return {
    name: "deno",
    displayName: "Deno",
    language: "typescript",
    argv: [binary, "jupyter", "--kernel", "--conn", "{connection_file}"],
    env: { DENO_DIR: denoDir(cacheDir) },
    interruptMode: "message",
    resourceDir: "",
  };
}

/**
 * Starts Deno's Jupyter kernel. Its iopub stream is reordered so that each idle status comes
 * after the request's outputs (see `settleIdle`): otherwise an execution would end before its
 * `console.log` output or result arrived.
 */
export async function launchDenoKernel(options: { connectionDir: string; cacheDir: string; cwd?: string }): Promise<Kernel> {
  const spec = denoKernelSpec(denoBinary(), options.cacheDir);
  const kernel = await Kernel.launch({ spec, connectionDir: options.connectionDir, cwd: options.cwd });
  // Kernel has no hook for this yet; replacing the stream before anyone subscribes is safe.
  Object.defineProperty(kernel, "iopub$", { value: kernel.iopub$.pipe(settleIdle(DENO_IDLE_SETTLE_MS)) });
  return kernel;
}
