import { RuntimedError } from "../protocol/errors";
import type { EnvBackend, EnvProgress, EnvSpec, PythonEnv } from "./backend";
import { runInstallStep } from "./install-step";
import { envPython } from "./python";
import { checkChannels, checkRequirements } from "./requirements";
import { PIP_FAST_FLAGS } from "./venv-backend";
import { which } from "./which";

/** Options for the conda backend. */
export interface CondaBackendOptions {
  /** The solver executable; default: the first of `micromamba`, `mamba`, `conda` on PATH. */
  executable?: string;
  /** Channels when a request names none; default `["conda-forge"]`. */
  defaultChannels?: string[];
  /** Limit for one whole build, after which everything it started is killed; default 15 min. */
  timeoutMs?: number;
}

/** Solvers tried in order: micromamba and mamba solve much faster than classic conda. */
export const CONDA_EXECUTABLES = ["micromamba", "mamba", "conda"] as const;

/**
 * Builds environments with micromamba, mamba or conda:
 * `<tool> create -y -p <dir> -c <channel>... -- python[<version>] ipykernel <deps>`, then pip for
 * an environment.yml's `- pip:` requirements (or pixi's `[pypi-dependencies]`). Specs and
 * requirements are checked and follow `--` (argparse and CLI11 both end options there).
 */
export class CondaBackend implements EnvBackend {
  readonly name = "conda" as const;

  constructor(private readonly options: CondaBackendOptions = {}) {}

  /** True when micromamba, mamba or conda is on PATH (or the configured executable is set). */
  async available(): Promise<boolean> {
    return (await this.executable()) !== undefined;
  }

  async create(
    dir: string,
    spec: EnvSpec,
    onProgress: (progress: EnvProgress) => void = () => {},
    signal?: AbortSignal,
  ): Promise<PythonEnv> {
    const tool = await this.executable();
    if (tool === undefined) {
      throw new RuntimedError("ENV_FAILED", "Conda environments need micromamba, mamba or conda on PATH; none is installed");
    }
    const deadline = Date.now() + (this.options.timeoutMs ?? 900_000);
    const context = { dir, deadline, signal, onProgress };
    const run = (command: string, args: string[], what: string) => runInstallStep(context, command, args, what);

    const channels = spec.channels?.length ? spec.channels : (this.options.defaultChannels ?? ["conda-forge"]);
    const python = spec.python === undefined ? "python" : /^[\d.*]+$/.test(spec.python) ? `python=${spec.python}` : `python${spec.python}`;
    const hasPython = spec.dependencies.some((dep) => /^python(\s|[=<>!~]|$)/.test(dep));
    const packages = [...(hasPython ? [] : [python]), "ipykernel", ...spec.dependencies];
    checkRequirements(packages, "conda", "the environment's conda packages");
    checkRequirements(spec.pipDependencies ?? [], "pip", "the environment's pip requirements");
    checkChannels(channels, "the environment's channels");
    onProgress({ phase: "creating", fraction: 0, message: `Creating environment with ${tool}` });
    await run(
      tool,
      ["create", "-y", "-p", dir, "--override-channels", ...channels.flatMap((channel) => ["-c", channel]), "--", ...packages],
      `${tool} create`,
    );
    const interpreter = envPython(dir);
    if (spec.pipDependencies?.length) {
      onProgress({ phase: "installing", message: `Installing ${spec.pipDependencies.join(", ")} with pip` });
      await run(interpreter, ["-m", "pip", "install", ...PIP_FAST_FLAGS, "--", ...spec.pipDependencies], "pip install");
    }
    onProgress({ phase: "ready", fraction: 1 });
    return { python: interpreter, dir, backend: this.name };
  }

  private async executable(): Promise<string | undefined> {
    if (this.options.executable !== undefined) return this.options.executable;
    for (const name of CONDA_EXECUTABLES) {
      const found = await which(name);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}
