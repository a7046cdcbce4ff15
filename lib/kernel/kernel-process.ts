import { spawn, type ChildProcess } from "node:child_process";
import { RuntimedError } from "../protocol/errors";
import type { KernelSpec } from "./kernelspec";
import { OutputTail } from "./output-tail";

/** How a kernel process ended: its exit code, or the signal that killed it. */
export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/** What `KernelProcess.spawn` needs: the spec, its connection file, and where to run. */
export interface KernelProcessOptions {
  spec: KernelSpec;
  connectionFile: string;
  cwd?: string;
  /** The base environment (default `process.env`); the spec's `env` is applied on top. */
  env?: NodeJS.ProcessEnv;
}

/** Replaces `{connection_file}` and `{resource_dir}` in one argv entry, as Jupyter does. */
export function substituteArgument(arg: string, connectionFile: string, resourceDir: string): string {
  return arg.replaceAll("{connection_file}", connectionFile).replaceAll("{resource_dir}", resourceDir);
}

/** The kernel's environment: base, then the spec's env (with `${VAR}` expanded from base). */
export function kernelEnvironment(spec: KernelSpec, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of Object.entries(spec.env)) {
    env[name] = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => base[variable] ?? "");
  }
  env.PYDEVD_DISABLE_FILE_VALIDATION ??= "1";
  // ipykernel polls this pid and exits when it is gone: the backstop if we are SIGKILLed.
  env.JPY_PARENT_PID = String(process.pid);
  return env;
}

/**
 * One running kernel process, started in its own process group (so a Ctrl-C meant for us does
 * not interrupt the user's cell), its output drained into a small tail for error messages.
 */
export class KernelProcess {
  /** Resolves once, when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private readonly output = new OutputTail();

  private constructor(private readonly child: ChildProcess, readonly pid: number) {
    this.output.follow(child.stdout);
    this.output.follow(child.stderr);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /** Starts the kernel; rejects with `KERNEL_FAILED` when the command cannot be run at all. */
  static spawn(options: KernelProcessOptions): Promise<KernelProcess> {
    const { spec, connectionFile } = options;
    const argv = spec.argv.map((arg) => substituteArgument(arg, connectionFile, spec.resourceDir));
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: options.cwd,
        env: kernelEnvironment(spec, options.env),
        stdio: ["ignore", "pipe", "pipe"],
        detached: process.platform !== "win32",
        windowsHide: true,
      });
      const onError = (error: Error): void => {
        reject(
          new RuntimedError("KERNEL_FAILED", `Could not start kernel ${spec.name} (${argv[0]}): ${error.message}`, {
            cause: error,
          }),
        );
      };
      child.once("error", onError);
      child.once("spawn", () => {
        child.off("error", onError);
        child.on("error", () => undefined); // Later errors (a failed kill) show up as exits.
        resolve(new KernelProcess(child, child.pid!));
      });
    });
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The exit, once it happened. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /**
   * Sends `signal` to the kernel's process group (reaching its subprocesses too), falling back
   * to the process alone. Does nothing once the kernel has exited; never throws.
   */
  signal(signal: NodeJS.Signals): boolean {
    if (this.hasExited) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      try {
        return this.child.kill(signal);
      } catch {
        return false;
      }
    }
  }

  /** Resolves true when the process exits within `ms`, false otherwise. */
  async waitForExit(ms: number): Promise<boolean> {
    if (this.hasExited) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.exited.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines the kernel wrote to stdout/stderr, for error messages. */
  lastOutput(lines = 20): string {
    return this.output.lastLines(lines).join("\n");
  }
}
