import { RuntimedError } from "../protocol/errors";
import type { EnvBackend, EnvProgress, EnvSpec, PythonEnv } from "./backend";
import { runInstallStep } from "./install-step";
import { envPython } from "./python";
import { checkPythonVersion, checkRequirements } from "./requirements";
import { which } from "./which";

/** Options for the uv backend. */
export interface UvBackendOptions {
  /** The `uv` executable; default: `uv` on PATH. */
  uv?: string;
  /** Limit for one whole build, after which everything it started is killed; default 10 min. */
  timeoutMs?: number;
}

/**
 * Builds environments with uv: `uv venv <dir> [--python <version>]`, then
 * `uv pip install --python <dir>/bin/python -- ipykernel <deps>`. The requirements are checked
 * and follow `--`, so none of them can be read as an option.
 */
export class UvBackend implements EnvBackend {
  readonly name = "uv" as const;

  constructor(private readonly options: UvBackendOptions = {}) {}

  /** True when `uv` is on PATH (or the configured executable exists). */
  async available(): Promise<boolean> {
    return (await this.executable()) !== undefined;
  }

  async create(
    dir: string,
    spec: EnvSpec,
    onProgress: (progress: EnvProgress) => void = () => {},
    signal?: AbortSignal,
  ): Promise<PythonEnv> {
    const uv = await this.executable();
    if (uv === undefined) throw new RuntimedError("ENV_FAILED", "uv is not installed (see https://docs.astral.sh/uv/)");
    const packages = ["ipykernel", ...spec.dependencies, ...(spec.pipDependencies ?? [])];
    checkRequirements(packages, "pip", "the environment's requirements");
    if (spec.python !== undefined) checkPythonVersion(spec.python, "the environment's Python version");
    const deadline = Date.now() + (this.options.timeoutMs ?? 600_000);
    const context = { dir, deadline, signal, onProgress, env: { UV_NO_PROGRESS: "1" } };
    const run = (args: string[], what: string) => runInstallStep(context, uv, args, what);

    onProgress({ phase: "creating", fraction: 0, message: "Creating environment with uv" });
    await run(["venv", dir, ...(spec.python !== undefined ? ["--python", spec.python] : [])], "uv venv");
    const python = envPython(dir);
    onProgress({ phase: "installing", message: `Installing ${packages.join(", ")}` });
    await run(["pip", "install", "--python", python, "--", ...packages], `uv pip install ${packages.join(" ")}`);
    onProgress({ phase: "ready", fraction: 1 });
    return { python, dir, backend: this.name };
  }

  private async executable(): Promise<string | undefined> {
    return this.options.uv ?? (await which("uv"));
  }
}
