import * as path from "node:path";
import type { EnvBackend } from "../env/backend";
import { CondaBackend } from "../env/conda-backend";
import { detectEnvironment } from "../env/detect";
import { EnvPool } from "../env/pool";
import type { BackendName, EnvRequest } from "../env/request";
import { resolveEnvironment } from "../env/resolve";
import { UvBackend } from "../env/uv-backend";
import { VenvBackend } from "../env/venv-backend";
import { Kernel } from "../kernel/kernel";
import { findKernelSpec, findKernelSpecs, pythonKernelSpec } from "../kernel/kernelspec";
import { noIpykernelMessage, searchPython } from "../kernel/python-search";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import { launchDenoKernel } from "./kernel-deno";
import { KernelPool, type WarmKernel } from "./kernel-pool";
import type { Logger } from "./logger";

/** What a room asks for when it needs a kernel. */
export interface KernelLaunchRequest {
  kernelType: string;
  envSource: string;
  notebookPath?: string;
  /** The notebook's metadata (inline dependencies live there). */
  metadata: Record<string, string>;
  onProgress?(progress: { phase: string; package?: string; fraction?: number; message?: string }): void;
}

/** A started kernel and the truthful label of what it runs in. */
export interface LaunchedKernel {
  kernel: Kernel;
  kernelType: string;
  envSource: string;
}

/** How a `KernelProvider` is set up. */
export interface KernelProviderOptions {
  /** Where connection files go (`<cache>/kernels`). */
  kernelsDir: string;
  /** The daemon's cache dir: environments live in `<envsCacheDir>/envs/`. Default: the parent of `kernelsDir`. */
  envsCacheDir?: string;
  logger: Logger;
  /** Prewarmed environments per backend; default `RUNTIMED_POOL_SIZE`, else 2. */
  poolSize?: number;
  /** Keep one running kernel of the default environment ready; default true unless `RUNTIMED_PREWARM_KERNEL=0`. */
  prewarmKernel?: boolean;
  /** Environment backends in preference order; default uv, conda, venv. */
  backends?: EnvBackend[];
}

/** Pool sizes: a non-negative integer, else the default. */
function poolSizeFrom(value: number | string | undefined): number {
  const size = typeof value === "string" ? Number(value) : value;
  return size !== undefined && Number.isInteger(size) && size >= 0 ? size : 2;
}

/**
 * Turns a room's request into a running kernel: `"python"` in the environment detection (or
 * an explicit `envSource`) asks for, `"deno"` with the npm deno binary, or any installed
 * kernelspec by name. Owns the prewarmed environment pool and the prewarmed running kernel.
 *
 * ```ts
 * const provider = new KernelProvider({ kernelsDir, envsCacheDir: cacheDir, logger });
 * provider.start();  // prewarm in the background
 * const { kernel, envSource } = await provider.launch({ kernelType: "python", envSource: "auto", metadata: {} });
 * await provider.close();
 * ```
 */
export class KernelProvider {
  private readonly cacheDir: string;
  private readonly backends: EnvBackend[];
  private readonly envPool: EnvPool;
  private readonly kernelPool: KernelPool | undefined;
  private defaultBackendPromise: Promise<BackendName | undefined> | undefined;
  private started = false;
  private closed = false;

  constructor(private readonly options: KernelProviderOptions) {
    this.cacheDir = options.envsCacheDir ?? path.dirname(path.resolve(options.kernelsDir));
    this.backends = options.backends ?? [new UvBackend(), new CondaBackend(), new VenvBackend()];
    const size = poolSizeFrom(options.poolSize ?? process.env.RUNTIMED_POOL_SIZE);
    this.envPool = new EnvPool({ cacheDir: this.cacheDir, backends: this.backends, size });
    const prewarmKernel = options.prewarmKernel ?? process.env.RUNTIMED_PREWARM_KERNEL !== "0";
    if (prewarmKernel) {
      this.kernelPool = new KernelPool({
        launch: () => this.launchWarm(),
        release: (warm) => this.envPool.discard(warm.env),
        logger: options.logger,
      });
    }
  }

  /** Starts prewarming environments and a kernel in the background; never waits. Idempotent. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.envPool.start().catch((error: unknown) => {
      this.options.logger.warn("environment pool did not start", { error: String(error) });
    });
    // With no backend at all, a kernel pool would only fail to launch: say so once instead.
    void this.defaultBackend().then(async (backend) => {
      if (backend !== undefined) {
        if (!this.closed) this.kernelPool?.start();
        return;
      }
      this.options.logger.warn("no Python environment backend: Python kernels cannot start", { reason: noIpykernelMessage(await searchPython()) });
    });
  }

  async launch(request: KernelLaunchRequest): Promise<LaunchedKernel> {
    if (this.closed) throw new RuntimedError("CLOSED", "The daemon is shutting down; no new kernels");
    this.start();
    const cwd = request.notebookPath ? path.dirname(path.resolve(request.notebookPath)) : undefined;
    if (request.kernelType === "python") return this.launchPython(request, cwd);
    if (request.kernelType === "deno") {
      const kernel = await launchDenoKernel({ connectionDir: this.options.kernelsDir, cacheDir: this.cacheDir, cwd });
      return this.announce(kernel, "deno", "deno");
    }
    const spec = await findKernelSpec(request.kernelType);
    if (!spec) throw await this.unknownKernel(request.kernelType);
    const kernel = await Kernel.launch({ spec, connectionDir: this.options.kernelsDir, cwd });
    return this.announce(kernel, request.kernelType, `kernelspec:${spec.name}`);
  }

  /** What the pools hold: prewarmed environments per backend, and a `"kernel"` row for the running kernel. */
  poolContents(): { backend: string; ready: number; building: number }[] {
    const rows = this.envPool.contents().map(({ backend, ready, building }) => ({ backend, ready, building }));
    return this.kernelPool ? [...rows, this.kernelPool.contents()] : rows;
  }

  /** Replaces every prewarmed environment and the prewarmed kernel with fresh ones. */
  async flushPool(): Promise<void> {
    this.start();
    // The kernel goes first and comes back last, so that it starts in a fresh environment.
    if (this.kernelPool) await this.kernelPool.flush(() => this.envPool.flush());
    else await this.envPool.flush();
  }

  /** Stops prewarming and shuts the prewarmed kernel down. Kernels handed out are their rooms'. */
  async close(): Promise<void> {
    this.closed = true;
    await this.kernelPool?.close();
    await this.envPool.close();
  }

  private async launchPython(request: KernelLaunchRequest, cwd: string | undefined): Promise<LaunchedKernel> {
    let envRequest: EnvRequest;
    try {
      envRequest = await detectEnvironment({ metadata: request.metadata, notebookPath: request.notebookPath, envSource: request.envSource });
    } catch (error) {
      throw toRuntimedError(error, "ENV_FAILED");
    }
    // A prewarmed kernel runs in the daemon's cwd: it only fits requests without a notebook dir.
    if (envRequest.kind === "prewarmed" && cwd === undefined && this.kernelPool && (await this.isDefaultBackend(envRequest.backend))) {
      const warm = await this.kernelPool.take();
      if (warm) {
        request.onProgress?.({ phase: "ready", fraction: 1, message: "Using a prewarmed kernel" });
        this.releaseWhenGone(warm);
        return this.announce(warm.kernel, "python", warm.envSource, "prewarmed kernel handed out");
      }
    }
    const resolved = await resolveEnvironment({
      request: envRequest,
      pool: this.envPool,
      backends: this.backends,
      cacheDir: this.cacheDir,
      onProgress: request.onProgress,
    });
    const owned = envRequest.kind === "prewarmed";
    let kernel: Kernel;
    try {
      kernel = await Kernel.launch({ spec: pythonKernelSpec(resolved.env.python), connectionDir: this.options.kernelsDir, cwd });
    } catch (error) {
      if (owned) await this.envPool.discard(resolved.env).catch(() => undefined);
      throw error;
    }
    if (owned) this.releaseWhenGone({ kernel, env: resolved.env, envSource: resolved.label });
    return this.announce(kernel, "python", resolved.label);
  }

  /** Starts a kernel for the kernel pool: the default backend's prewarmed env, the daemon's cwd. */
  private async launchWarm(): Promise<WarmKernel> {
    const backend = await this.defaultBackend();
    if (backend === undefined) throw new RuntimedError("ENV_FAILED", "No environment backend is available to prewarm a kernel");
    // Let the env pool's first build finish rather than racing it with a second one.
    await this.envPool.ready(backend).catch(() => undefined);
    const resolved = await resolveEnvironment({
      request: { kind: "prewarmed", backend },
      pool: this.envPool,
      backends: this.backends,
      cacheDir: this.cacheDir,
    });
    try {
      const kernel = await Kernel.launch({ spec: pythonKernelSpec(resolved.env.python), connectionDir: this.options.kernelsDir });
      return { kernel, env: resolved.env, envSource: resolved.label };
    } catch (error) {
      await this.envPool.discard(resolved.env).catch(() => undefined);
      throw error;
    }
  }

  /** The backend a prewarmed request without an explicit one resolves to: the first available. */
  private defaultBackend(): Promise<BackendName | undefined> {
    this.defaultBackendPromise ??= (async () => {
      for (const backend of this.backends) if (await backend.available()) return backend.name;
      return undefined;
    })();
    return this.defaultBackendPromise;
  }

  /** Whether a prewarmed request for `backend` fits the kernel pool's kernels (never when there is no backend). */
  private async isDefaultBackend(backend: BackendName | undefined): Promise<boolean> {
    const defaultBackend = await this.defaultBackend();
    return defaultBackend !== undefined && (backend === undefined || backend === defaultBackend);
  }

  /** A taken prewarmed env belongs to its one kernel: delete it once that kernel is gone. */
  private releaseWhenGone(warm: WarmKernel): void {
    warm.kernel.exit$.subscribe(() => {
      this.envPool.discard(warm.env).catch((error: unknown) => {
        this.options.logger.warn("could not remove a used environment", { dir: warm.env.dir, error: String(error) });
      });
    });
  }

  private announce(kernel: Kernel, kernelType: string, envSource: string, message = "kernel started"): LaunchedKernel {
    this.options.logger.info(message, { kernel: kernel.spec.name, pid: kernel.pid, env_source: envSource });
    return { kernel, kernelType, envSource };
  }

  private async unknownKernel(name: string): Promise<RuntimedError> {
    const installed = [...(await findKernelSpecs()).keys()].sort().filter((spec) => spec !== "python" && spec !== "deno");
    const available = ["python", "deno", ...installed];
    return new RuntimedError(
      "BAD_REQUEST",
      `No kernel ${JSON.stringify(name)}; available: ${available.join(", ")} (python and deno are built in; others are installed kernelspecs)`,
    );
  }
}
