import { randomUUID } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { RuntimedError } from "../protocol/errors";
import type { EnvBackend, EnvProgress, PythonEnv } from "./backend";
import { readMarkedEnv, removeEnvMarkerSync, writeEnvMarker } from "./marker";
import type { BackendName } from "./request";

/** How an `EnvPool` is set up. */
export interface EnvPoolOptions {
  /** The daemon's cache dir; pooled envs live in `<cacheDir>/envs/<backend>-pool-<uuid>/`. */
  cacheDir: string;
  /** Backends to prewarm for, in preference order; unavailable ones are left out. */
  backends: EnvBackend[];
  /** Ready environments to keep per backend; default 2. */
  size?: number;
}

/** What the pool holds for one backend, as `contents()` reports it. */
export interface PoolContents {
  backend: BackendName;
  ready: number;
  building: number;
  /** The last build failure, until a build succeeds. */
  error?: string;
}

interface Slot {
  backend: EnvBackend;
  available: boolean;
  ready: PythonEnv[];
  filling: boolean;
  fillDone: Promise<void>;
  lastError?: RuntimedError;
}

const poolDirPattern = /^(uv|conda|venv)-pool-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Prewarmed Python environments (Python + ipykernel, nothing else), a few per available
 * backend, so that a kernel can start without waiting for one to be built.
 *
 * `take()` is synchronous and instant; the pool then builds a replacement in the background.
 * Finished environments carry a marker file, so a daemon restarted on the same cache dir finds
 * and reuses them; directories without one (interrupted builds, taken envs) are deleted at
 * `start()`. One pool per cache dir at a time: the daemon's lock guarantees it.
 *
 * ```ts
 * const pool = new EnvPool({ cacheDir, backends: [new VenvBackend()] });
 * await pool.ready();
 * const env = pool.take("venv");  // { python: ".../bin/python", dir, backend: "venv" }
 * await pool.close();
 * ```
 */
export class EnvPool {
  private readonly size: number;
  private readonly envsDir: string;
  private readonly slots: Slot[];
  private abort = new AbortController();
  private started: Promise<void> | undefined;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(options: EnvPoolOptions) {
    this.size = options.size ?? 2;
    this.envsDir = join(resolve(options.cacheDir), "envs");
    this.slots = options.backends.map((backend) => ({
      backend,
      available: false,
      ready: [],
      filling: false,
      fillDone: Promise.resolve(),
    }));
  }

  /** Finds available backends, adopts finished envs left on disk, and starts filling. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.startOnce();
    return this.started;
  }

  /**
   * Resolves once an environment (of `backend`, when given) can be taken; starts the pool if
   * needed. Rejects with the build error when every backend asked for has failed its last
   * build, and with ENV_FAILED when none is available at all.
   */
  async ready(backend?: BackendName): Promise<void> {
    await this.start();
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        const slots = this.slots.filter((slot) => slot.available && (backend === undefined || slot.backend.name === backend));
        let outcome: (() => void) | undefined;
        if (slots.some((slot) => slot.ready.length > 0)) outcome = () => resolvePromise();
        else if (this.closed) outcome = () => reject(new RuntimedError("CLOSED", "The environment pool is closed"));
        else if (slots.length === 0) {
          outcome = () =>
            reject(new RuntimedError("ENV_FAILED", `No ${backend ?? "environment"} backend is available to prewarm environments`));
        } else if (slots.every((slot) => !slot.filling && slot.lastError)) outcome = () => reject(slots[0].lastError);
        else if (this.size === 0) outcome = () => reject(new RuntimedError("ENV_FAILED", "The environment pool has size 0"));
        if (outcome) {
          this.waiters.delete(check);
          outcome();
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Takes a ready environment (of `backend`, else of the first backend that has one) for the
   * caller to own, or `undefined` when none is ready. Never waits; a replacement is built in
   * the background.
   */
  take(backend?: BackendName): PythonEnv | undefined {
    const slot = this.slots.find((s) => (backend === undefined || s.backend.name === backend) && s.ready.length > 0);
    const env = slot?.ready.shift();
    if (!slot || !env) return undefined;
    // From now on the env belongs to the caller; a restarted daemon must not pool it again.
    removeEnvMarkerSync(env.dir);
    this.fill(slot);
    return env;
  }

  /**
   * Builds a fresh environment with `backend` now, for a caller that found the pool empty.
   * It is owned by the caller like a taken one.
   */
  async build(backend: BackendName, onProgress?: (progress: EnvProgress) => void, signal?: AbortSignal): Promise<PythonEnv> {
    await this.start();
    const slot = this.slots.find((s) => s.backend.name === backend && s.available);
    if (!slot) throw new RuntimedError("ENV_FAILED", `The ${backend} backend is not available on this machine`);
    const signals = [this.abort.signal, ...(signal ? [signal] : [])];
    const env = await this.buildInto(slot.backend, onProgress, AbortSignal.any(signals));
    removeEnvMarkerSync(env.dir);
    return env;
  }

  /** How many environments are ready and being built, per available backend. */
  contents(): PoolContents[] {
    return this.slots
      .filter((slot) => slot.available)
      .map((slot) => ({
        backend: slot.backend.name,
        ready: slot.ready.length,
        building: slot.filling ? 1 : 0,
        ...(slot.lastError ? { error: slot.lastError.message } : {}),
      }));
  }

  /** Deletes every pooled (untaken) environment, cancelling builds in progress, then refills. */
  async flush(): Promise<void> {
    await this.start();
    await this.stopBuilds();
    const doomed = this.slots.flatMap((slot) => slot.ready.splice(0));
    await Promise.all(doomed.map((env) => rm(env.dir, { recursive: true, force: true })));
    this.notify();
    if (!this.closed) this.slots.forEach((slot) => this.fill(slot));
  }

  /** Deletes a taken environment that is no longer needed (only one under this pool's dir). */
  async discard(env: PythonEnv): Promise<void> {
    const dir = resolve(env.dir);
    if (dir.startsWith(this.envsDir + sep)) await rm(dir, { recursive: true, force: true });
  }

  /** Stops replenishing: cancels builds in progress and waits until their processes are gone. */
  async close(): Promise<void> {
    this.closed = true;
    await this.started?.catch(() => {});
    await this.stopBuilds();
    this.notify();
  }

  private async startOnce(): Promise<void> {
    await mkdir(this.envsDir, { recursive: true });
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.available = await slot.backend.available();
      }),
    );
    await this.adoptExisting();
    this.notify();
    if (!this.closed) this.slots.forEach((slot) => this.fill(slot));
  }

  /** Reuses finished envs from an earlier run; removes unfinished, taken and surplus ones. */
  private async adoptExisting(): Promise<void> {
    for (const name of (await readdir(this.envsDir)).sort()) {
      const match = poolDirPattern.exec(name);
      if (!match) continue;
      const slot = this.slots.find((s) => s.backend.name === match[1]);
      if (!slot?.available) continue;
      const dir = join(this.envsDir, name);
      const env = await readMarkedEnv(dir);
      if (env && env.backend === slot.backend.name && slot.ready.length < this.size) slot.ready.push(env);
      else await rm(dir, { recursive: true, force: true });
    }
  }

  private fill(slot: Slot): void {
    if (slot.filling || this.closed || !slot.available || slot.ready.length >= this.size) return;
    slot.filling = true;
    slot.fillDone = this.fillLoop(slot);
    this.notify();
  }

  private async fillLoop(slot: Slot): Promise<void> {
    const signal = this.abort.signal;
    try {
      while (!this.closed && !signal.aborted && slot.ready.length < this.size) {
        try {
          const env = await this.buildInto(slot.backend, undefined, signal);
          if (this.closed || signal.aborted) {
            // Finished just as we were told to stop: keep it on disk for the next start.
            break;
          }
          slot.ready.push(env);
          slot.lastError = undefined;
        } catch (error) {
          if (!(error instanceof RuntimedError && error.code === "CANCELLED")) {
            // No retry loop: the next take (or flush) tries again.
            slot.lastError = error instanceof RuntimedError ? error : new RuntimedError("ENV_FAILED", String(error));
          }
          break;
        } finally {
          this.notify();
        }
      }
    } finally {
      slot.filling = false;
      this.notify();
    }
  }

  private async buildInto(
    backend: EnvBackend,
    onProgress: ((progress: EnvProgress) => void) | undefined,
    signal: AbortSignal,
  ): Promise<PythonEnv> {
    const dir = join(this.envsDir, `${backend.name}-pool-${randomUUID()}`);
    try {
      const env = await backend.create(dir, { dependencies: [] }, onProgress, signal);
      await writeEnvMarker(env, { pool: true });
      return env;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      onProgress?.({ phase: "failed", message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  private async stopBuilds(): Promise<void> {
    const previous = this.abort;
    this.abort = new AbortController();
    previous.abort();
    await Promise.all(this.slots.map((slot) => slot.fillDone));
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
