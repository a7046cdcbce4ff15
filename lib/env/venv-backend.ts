import { canImportIpykernel, findIpykernelPython } from "../kernel/kernelspec";
import { RuntimedError } from "../protocol/errors";
import type { EnvBackend, EnvProgress, EnvSpec, PythonEnv } from "./backend";
import { runInstallStep } from "./install-step";
import { envPython, remaining } from "./python";
import { checkRequirements } from "./requirements";
import { runCommand } from "./run";
import { which } from "./which";

/** Options for the stdlib venv backend. */
export interface VenvBackendOptions {
  /** Interpreter to build venvs over; default: the first that can `import ipykernel`, else `python3`. */
  basePython?: string;
  /** Limit for one whole build, after which everything it started is killed; default 10 min. */
  timeoutMs?: number;
}

/** Flags that make pip fail fast and quietly instead of prompting or retrying for minutes. */
export const PIP_FAST_FLAGS = [
  "--disable-pip-version-check",
  "--no-input",
  "--timeout",
  "15",
  "--retries",
  "0",
  "--progress-bar",
  "off",
] as const;

/**
 * Builds environments with Python's own `venv`, for machines with neither uv nor conda.
 * Each venv is created `--system-site-packages --without-pip` over a base interpreter that
 * already has ipykernel, so a dependency-free venv takes a fraction of a second and shares the
 * base's packages. Dependencies are installed with pip run inside the venv (the base's pip,
 * visible through the system site packages, else one bootstrapped with `ensurepip`); pip
 * failures surface as ENV_FAILED with pip's own ERROR lines.
 */
export class VenvBackend implements EnvBackend {
  readonly name = "venv" as const;
  private basePromise: Promise<{ python: string; hasIpykernel: boolean } | undefined> | undefined;

  constructor(private readonly options: VenvBackendOptions = {}) {}

  /** True when some base interpreter exists (with ipykernel, or with pip to install it). */
  async available(): Promise<boolean> {
    return (await this.base()) !== undefined;
  }

  /** The interpreter venvs are built over, once found. */
  async basePython(): Promise<string | undefined> {
    return (await this.base())?.python;
  }

  async create(
    dir: string,
    spec: EnvSpec,
    onProgress: (progress: EnvProgress) => void = () => {},
    signal?: AbortSignal,
  ): Promise<PythonEnv> {
    const deadline = Date.now() + (this.options.timeoutMs ?? 600_000);
    const base = await this.base();
    if (!base) {
      throw new RuntimedError("ENV_FAILED", "No Python 3 interpreter found for the venv backend; install python3 (with ipykernel)");
    }
    const packages = [...(base.hasIpykernel ? [] : ["ipykernel"]), ...spec.dependencies, ...(spec.pipDependencies ?? [])];
    checkRequirements(packages, "pip", "the environment's requirements");
    const context = { dir, deadline, signal, onProgress };
    const run = (command: string, args: string[], what: string) => runInstallStep(context, command, args, what);

    onProgress({ phase: "creating", fraction: 0, message: `Creating venv over ${base.python}` });
    await run(base.python, ["-m", "venv", "--system-site-packages", "--without-pip", dir], "python -m venv");
    const python = envPython(dir);
    if (spec.python !== undefined) {
      onProgress({ phase: "creating", message: `The venv backend uses ${base.python}; requested Python "${spec.python}" is not enforced` });
    }

    if (packages.length > 0) {
      const pip = await runCommand(python, ["-m", "pip", "--version"], { timeoutMs: remaining(deadline), signal });
      if (pip.code !== 0) {
        onProgress({ phase: "installing", message: "Bootstrapping pip with ensurepip" });
        await run(python, ["-m", "ensurepip", "--default-pip"], "python -m ensurepip");
      }
      onProgress({ phase: "installing", message: `Installing ${packages.join(", ")}` });
      // After "--" pip reads every argument as a requirement, never as an option.
      await run(python, ["-m", "pip", "install", ...PIP_FAST_FLAGS, "--", ...packages], `pip install ${packages.join(" ")}`);
    }

    if (!(await canImportIpykernel(python))) {
      throw new RuntimedError("ENV_FAILED", `The new venv ${dir} cannot import ipykernel`);
    }
    onProgress({ phase: "ready", fraction: 1 });
    return { python, dir, backend: this.name };
  }

  private base(): Promise<{ python: string; hasIpykernel: boolean } | undefined> {
    this.basePromise ??= (async () => {
      if (this.options.basePython !== undefined) {
        return { python: this.options.basePython, hasIpykernel: await canImportIpykernel(this.options.basePython) };
      }
      const withIpykernel = await findIpykernelPython();
      if (withIpykernel !== undefined) return { python: withIpykernel, hasIpykernel: true };
      const anyPython = await which("python3");
      return anyPython === undefined ? undefined : { python: anyPython, hasIpykernel: false };
    })();
    return this.basePromise;
  }
}
