import type { BackendName } from "./request";

/** A Python environment on disk that can run ipykernel. */
export interface PythonEnv {
  /** The environment's interpreter, e.g. `<dir>/bin/python`. */
  python: string;
  /** The environment's root directory. */
  dir: string;
  /** The backend that built it. */
  backend: BackendName;
}

/** A step of an environment build, as reported in `env_progress` events. */
export interface EnvProgress {
  phase: "creating" | "installing" | "ready" | "failed";
  /** The package being fetched or installed, when the installer says. */
  package?: string;
  /** 0..1 where known. */
  fraction?: number;
  message?: string;
}

/** What to put into a new environment, beyond Python and ipykernel. */
export interface EnvSpec {
  /** Requirements in the backend's own syntax (pip requirements, or conda match specs). */
  dependencies: string[];
  /** Conda channels, in priority order. */
  channels?: string[];
  /** A Python version or constraint, e.g. `3.11` or `>=3.10`. */
  python?: string;
  /** Pip requirements to install after conda's (an environment.yml's `- pip:` list). */
  pipDependencies?: string[];
}

/**
 * A way to build Python environments: uv, conda (micromamba/mamba/conda) or the stdlib venv.
 * Backends are swappable behind this interface; the pool and resolver never know which.
 */
export interface EnvBackend {
  readonly name: BackendName;
  /** Whether this backend can build on this machine (its tool is installed). */
  available(): Promise<boolean>;
  /**
   * Builds an environment with ipykernel and `spec`'s packages in `dir`, which must not exist
   * yet. Rejects with ENV_FAILED carrying the installer's own message, or CANCELLED when
   * `signal` aborts; either way no process is left running, and the caller removes `dir`.
   */
  create(dir: string, spec: EnvSpec, onProgress?: (progress: EnvProgress) => void, signal?: AbortSignal): Promise<PythonEnv>;
}
