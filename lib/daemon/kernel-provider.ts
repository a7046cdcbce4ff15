import * as path from "node:path";
import type { EnvBackend } from "../env/backend";
import { CondaBackend } from "../env/conda-backend";
import { detectEnvironment } from "../env/detect";
import { EnvPool } from "../env/pool";
import type { BackendName, EnvRequest } from "../env/request";
import { resolveEnvironment } from "../env/resolve";
import { UvBackend } from "../env/uv-backend";
import { VenvBackend } from "../env/venv-backend";
import type { PythonEnv } from "../env/backend";
import type { GatewayConfig } from "../gateway/gateway-config";
import { Kernel } from "../kernel/kernel";
import type { KernelHandle } from "../kernel/kernel-handle";
import { findKernelSpec, findKernelSpecs, pythonKernelSpec } from "../kernel/kernelspec";
import { noIpykernelMessage, searchPython } from "../kernel/python-search";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import type { GatewayStatus } from "../protocol/messages";
import { GatewayKernelProvider } from "./gateway-kernel-provider";
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
  /** `"local"`, `"gateway"`, or undefined: the gateway when one is configured, else local. */
  location?: string;
  onProgress?(progress: { phase: string; package?: string; fraction?: number; message?: string }): void;
}

/** A started kernel, the truthful label of what it runs in, and how to restart it there. */
export interface LaunchedKernel {
  kernel: KernelHandle;
  kernelType: string;
  envSource: string;
  /**
   * Replaces the kernel with a fresh one in the same place — a local kernel's interpreter,
   * environment and working directory; a gateway kernel's id — and resolves with it. The old
   * kernel is shut down; its environment is kept for the new one.
   */
  restart(): Promise<LaunchedKernel>;
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
  /** A Jupyter Server / Enterprise Gateway to start kernels on (local ones are still had with `location: "local"`). */
  gateway?: GatewayConfig;
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
 * With a gateway configured, kernels start there instead unless the request says
 * `location: "local"` (and nothing is prewarmed locally until a local kernel is asked for).
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
  private readonly gateway: GatewayKernelProvider | undefined;
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
    this.gateway = options.gateway ? new GatewayKernelProvider(options.gateway, options.logger) : undefined;
  }

  /**
   * Starts prewarming environments and a kernel in the background; never waits. Idempotent.
   * With a gateway, prewarming waits for the first local kernel.
   */
  start(): void {
    if (!this.gateway) this.startLocal();
  }

  /** The daemon's gateway and whether it answers; null without one. */
  async gatewayStatus(): Promise<GatewayStatus | null> {
    return this.gateway ? this.gateway.status() : null;
  }

  private startLocal(): void {
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

  /** Starts the kernel a room asks for, on the gateway or on this machine (see `location`). */
  async launch(request: KernelLaunchRequest): Promise<LaunchedKernel> {
    if (this.closed) throw new RuntimedError("CLOSED", "The daemon is shutting down; no new kernels");
    const location = request.location ?? "auto";
    if (location !== "auto" && location !== "local" && location !== "gateway") {
      throw new RuntimedError("BAD_REQUEST", `Unknown kernel location ${JSON.stringify(location)}; use "local" or "gateway"`);
    }
    if (location === "gateway" && !this.gateway) {
      throw new RuntimedError(
        "BAD_REQUEST",
        "This daemon has no gateway: start it with JUPYTER_GATEWAY_URL set, or `runtimed daemon start --gateway-url URL`",
      );
    }
    if (this.gateway && location !== "local") return this.gateway.launch(request);
    this.startLocal();
    const cwd = request.notebookPath ? path.dirname(path.resolve(request.notebookPath)) : undefined;
    if (request.kernelType === "python") return this.launchPython(request, cwd);
    const connectionDir = this.options.kernelsDir;
    if (request.kernelType === "deno") {
      const relaunch = () => launchDenoKernel({ connectionDir, cacheDir: this.cacheDir, cwd });
      return this.announce(this.owning(await relaunch(), "deno", "deno", relaunch));
    }
    const spec = await findKernelSpec(request.kernelType);
    if (!spec) throw await this.unknownKernel(request.kernelType);
    const relaunch = () => Kernel.launch({ spec, connectionDir, cwd });
    return this.announce(this.owning(await relaunch(), request.kernelType, `kernelspec:${spec.name}`, relaunch));
  }

  /** What the pools hold: prewarmed environments per backend, and a `"kernel"` row for the running kernel. */
  poolContents(): { backend: string; ready: number; building: number }[] {
    const rows = this.envPool.contents().map(({ backend, ready, building }) => ({ backend, ready, building }));
    return this.kernelPool ? [...rows, this.kernelPool.contents()] : rows;
  }

  /** Replaces every prewarmed environment and the prewarmed kernel with fresh ones. */
  async flushPool(): Promise<void> {
    this.startLocal();
    // The kernel goes first and comes back last, so that it starts in a fresh environment.
    if (this.kernelPool) await this.kernelPool.flush(() => this.envPool.flush());
    else await this.envPool.flush();
  }

  /** Stops prewarming and shuts the prewarmed kernel down. Kernels handed out are their rooms'. */
  async close(): Promise<void> {
    this.closed = true;
    await this.kernelPool?.close();
    await this.envPool.close();
    await this.gateway?.close();
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
        const spec = pythonKernelSpec(warm.env.python);
        const relaunch = () => Kernel.launch({ spec, connectionDir: this.options.kernelsDir });
        return this.announce(this.owning(warm.kernel, "python", warm.envSource, relaunch, warm.env), "prewarmed kernel handed out");
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
    const spec = pythonKernelSpec(resolved.env.python);
    const relaunch = () => Kernel.launch({ spec, connectionDir: this.options.kernelsDir, cwd });
    let kernel: Kernel;
    try {
      kernel = await relaunch();
    } catch (error) {
      if (owned) await this.envPool.discard(resolved.env).catch(() => undefined);
      throw error;
    }
    return this.announce(this.owning(kernel, "python", resolved.label, relaunch, owned ? resolved.env : undefined));
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

  /**
   * A local kernel with what restarts it in the same place: `relaunch` starts the same spec in
   * the same cwd. A taken prewarmed `env` belongs to the room: it is deleted once its kernel is
   * gone for good (died or shut down), and handed to the new kernel on a restart.
   */
  private owning(kernel: Kernel, kernelType: string, envSource: string, relaunch: () => Promise<Kernel>, env?: PythonEnv): LaunchedKernel {
    let handedOver = false;
    if (env) {
      kernel.exit$.subscribe(() => {
        if (!handedOver) this.discardEnv(env);
      });
    }
    return {
      kernel,
      kernelType,
      envSource,
      restart: async () => {
        handedOver = true;
        await kernel.shutdown();
        let next: Kernel;
        try {
          next = await relaunch();
        } catch (error) {
          if (env) this.discardEnv(env);
          throw error;
        }
        this.options.logger.info("kernel restarted in the same environment", { kernel: next.spec.name, pid: next.pid, env_source: envSource });
        return this.owning(next, kernelType, envSource, relaunch, env);
      },
    };
  }

  private discardEnv(env: PythonEnv): void {
    this.envPool.discard(env).catch((error: unknown) => {
      this.options.logger.warn("could not remove a used environment", { dir: env.dir, error: String(error) });
    });
  }

  private announce(launched: LaunchedKernel, message = "kernel started"): LaunchedKernel {
    const { kernel, envSource } = launched;
    this.options.logger.info(message, { kernel: kernel.spec.name, pid: kernel.pid, env_source: envSource });
    return launched;
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
