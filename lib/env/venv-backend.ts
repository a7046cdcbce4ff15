import { canImportIpykernel, noIpykernelMessage, searchPython, type PythonSearch } from "../kernel/python-search";
import { RuntimedError } from "../protocol/errors";
import type { EnvBackend, EnvProgress, EnvSpec, PythonEnv } from "./backend";
import { runInstallStep } from "./install-step";
import { envPython, remaining } from "./python";
import { checkRequirements } from "./requirements";
import { runCommand } from "./run";

/** The interpreter venvs are built over, and how it was found. */
interface Base {
  python: string;
  hasIpykernel: boolean;
  search: PythonSearch;
}

/** Options for the stdlib venv backend. */
export interface VenvBackendOptions {
  /**
   * Interpreter to build venvs over; default: the first that can `import ipykernel` (see
   * `searchPython`, which honours `RUNTIMED_PYTHON`), else the first Python found at all.
   */
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
 * failures surface as ENV_FAILED with pip's own ERROR lines. Where no Python has ipykernel, the
 * venv is built over the first Python found and ipykernel is installed into it first; if that
 * fails (no network, no pip), or there is no Python at all, `create` fails with KERNEL_FAILED
 * saying which interpreters were tried and how to install ipykernel.
 */
export class VenvBackend implements EnvBackend {
  readonly name = "venv" as const;
  private basePromise: Promise<Base | undefined> | undefined;

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
    if (!base) throw new RuntimedError("KERNEL_FAILED", noIpykernelMessage(await searchPython()));
    const requirements = [...spec.dependencies, ...(spec.pipDependencies ?? [])];
    checkRequirements(requirements, "pip", "the environment's requirements");
    const context = { dir, deadline, signal, onProgress };
    const run = (command: string, args: string[], what: string) => runInstallStep(context, command, args, what);
    const python = envPython(dir);
    let pipReady = false;
    const pipInstall = async (packages: string[]) => {
      if (!pipReady) {
        const pip = await runCommand(python, ["-m", "pip", "--version"], { timeoutMs: remaining(deadline), signal });
        if (pip.code !== 0) {
          onProgress({ phase: "installing", message: "Bootstrapping pip with ensurepip" });
          await run(python, ["-m", "ensurepip", "--default-pip"], "python -m ensurepip");
        }
        pipReady = true;
      }
      onProgress({ phase: "installing", message: `Installing ${packages.join(", ")}` });
      // After "--" pip reads every argument as a requirement, never as an option.
      await run(python, ["-m", "pip", "install", ...PIP_FAST_FLAGS, "--", ...packages], `pip install ${packages.join(" ")}`);
    };

    try {
      onProgress({ phase: "creating", fraction: 0, message: `Creating venv over ${base.python}` });
      await run(base.python, ["-m", "venv", "--system-site-packages", "--without-pip", dir], "python -m venv");
      if (!base.hasIpykernel) await pipInstall(["ipykernel"]);
    } catch (error) {
      // Without a Python that has ipykernel, a venv that cannot get it means no Python kernel at all.
      if (base.hasIpykernel || (error instanceof RuntimedError && error.code === "CANCELLED")) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new RuntimedError("KERNEL_FAILED", `${noIpykernelMessage(base.search)}. Installing ipykernel into a venv over ${base.python} failed: ${reason}`, {
        cause: error,
      });
    }
    if (spec.python !== undefined) {
      onProgress({ phase: "creating", message: `The venv backend uses ${base.python}; requested Python "${spec.python}" is not enforced` });
    }
    if (requirements.length > 0) await pipInstall(requirements);

    if (!(await canImportIpykernel(python))) {
      throw new RuntimedError("ENV_FAILED", `The new venv ${dir} cannot import ipykernel`);
    }
    onProgress({ phase: "ready", fraction: 1 });
    return { python, dir, backend: this.name };
  }

  private base(): Promise<Base | undefined> {
    this.basePromise ??= (async () => {
      const search = await searchPython();
      if (this.options.basePython !== undefined) {
        return { python: this.options.basePython, hasIpykernel: await canImportIpykernel(this.options.basePython), search };
      }
      if (search.ipykernel !== undefined) return { python: search.ipykernel, hasIpykernel: true, search };
      // No ipykernel anywhere: a Python without it can still serve, if pip can install it.
      return search.anyPython === undefined ? undefined : { python: search.anyPython, hasIpykernel: false, search };
    })();
    return this.basePromise;
  }
}
