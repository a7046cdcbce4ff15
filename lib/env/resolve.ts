import { noIpykernelMessage, searchPython } from "../kernel/python-search";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import type { EnvBackend, EnvProgress, EnvSpec, PythonEnv } from "./backend";
import { EnvCache } from "./env-cache";
import { envLabel } from "./env-source";
import type { EnvPool } from "./pool";
import type { BackendName, EnvRequest } from "./request";

/** What `resolveEnvironment` needs. */
export interface ResolveOptions {
  request: EnvRequest;
  pool: EnvPool;
  /** Every backend that may build, in preference order for prewarmed envs (e.g. uv, conda, venv). */
  backends: EnvBackend[];
  /** The daemon's cache dir; dependency envs are cached in `<cacheDir>/envs/<backend>-<hash>/`. */
  cacheDir: string;
  onProgress?: (progress: EnvProgress) => void;
  signal?: AbortSignal;
}

/** A ready environment and the truthful label of how it was made, e.g. `"venv:inline"`. */
export interface ResolvedEnv {
  env: PythonEnv;
  label: string;
}

const caches = new Map<string, EnvCache>();

/**
 * Turns an `EnvRequest` into an environment a kernel can start in.
 *
 * Prewarmed requests take one from the pool (or build one at once when it is empty). The
 * others build, or reuse from the cache, an environment with their packages, using uv for
 * uv-style inline deps and pyproject.toml, and conda for conda inline deps, pixi.toml and
 * environment.yml. Without uv, pip-installable kinds are built with the stdlib venv backend and
 * labelled so (`"venv:pyproject"`); conda kinds without conda fail, as pip cannot install conda
 * specs. Where no backend can make a Python kernel at all (no Python with ipykernel, or one
 * to install it into, and no uv or conda), it fails with KERNEL_FAILED saying what to install.
 * An install failure is ENV_FAILED with the installer's message; it never falls back to
 * some other environment.
 */
export async function resolveEnvironment(options: ResolveOptions): Promise<ResolvedEnv> {
  const { request, onProgress } = options;
  try {
    const backend = await chooseBackend(request, options.backends);
    const label = envLabel(backend.name, request.kind);
    if (request.kind === "prewarmed") {
      const taken = options.pool.take(backend.name);
      if (taken) {
        onProgress?.({ phase: "ready", fraction: 1, message: `Using a prewarmed ${backend.name} environment` });
        return { env: taken, label };
      }
      return { env: await options.pool.build(backend.name, onProgress, options.signal), label };
    }
    let cache = caches.get(options.cacheDir);
    if (!cache) caches.set(options.cacheDir, (cache = new EnvCache(options.cacheDir)));
    const { env } = await cache.getOrCreate(backend, specOf(request), onProgress, options.signal);
    return { env, label };
  } catch (error) {
    throw toRuntimedError(error, "ENV_FAILED");
  }
}

/** The packages a request asks for, in the shape backends take. */
export function specOf(request: EnvRequest): EnvSpec {
  switch (request.kind) {
    case "prewarmed":
      return { dependencies: [] };
    case "inline":
      return { dependencies: request.dependencies, channels: request.channels, python: request.python };
    case "pyproject":
      return { dependencies: request.dependencies, python: request.python };
    case "pixi":
      return { dependencies: request.dependencies, channels: request.channels, pipDependencies: request.pipDependencies };
    case "env_yml":
      return { dependencies: request.dependencies, channels: request.channels, pipDependencies: request.pipDependencies };
  }
}

function condaFlavoured(request: EnvRequest): boolean {
  return request.kind === "pixi" || request.kind === "env_yml" || (request.kind === "inline" && request.manager === "conda");
}

function describe(request: EnvRequest): string {
  switch (request.kind) {
    case "prewarmed":
      return "A prewarmed conda environment";
    case "inline":
      return `The notebook's inline ${request.manager} dependencies`;
    default:
      return request.path;
  }
}

async function chooseBackend(request: EnvRequest, backends: EnvBackend[]): Promise<EnvBackend> {
  const find = async (name: BackendName) => {
    const backend = backends.find((b) => b.name === name);
    return backend && (await backend.available()) ? backend : undefined;
  };
  let preferred: BackendName;
  if (request.backend) preferred = request.backend;
  else if (condaFlavoured(request)) preferred = "conda";
  else if (request.kind === "prewarmed") {
    for (const backend of backends) if (await backend.available()) return backend;
    throw await noPythonKernel();
  } else preferred = "uv";

  if (condaFlavoured(request) && preferred !== "conda") {
    throw new RuntimedError("ENV_FAILED", `${describe(request)} lists conda packages, which ${preferred} cannot install`);
  }
  const backend = await find(preferred);
  if (backend) return backend;
  if (preferred === "conda") {
    throw new RuntimedError(
      "ENV_FAILED",
      `${describe(request)} needs conda, but none of micromamba, mamba or conda is installed; install micromamba (https://mamba.readthedocs.io) or choose another envSource`,
    );
  }
  // uv and pip install the same requirements from the same index, so venv is a faithful stand-in.
  const venv = preferred === "uv" ? await find("venv") : undefined;
  if (venv) return venv;
  if (preferred === "uv") throw await noPythonKernel();
  throw new RuntimedError("ENV_FAILED", `${describe(request)} needs the venv backend, which has no Python here: ${noIpykernelMessage(await searchPython())}`);
}

/** No backend can give a Python kernel here: nothing has ipykernel, and neither uv nor conda is installed. */
async function noPythonKernel(): Promise<RuntimedError> {
  return new RuntimedError("KERNEL_FAILED", noIpykernelMessage(await searchPython()));
}
