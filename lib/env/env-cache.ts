import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { EnvBackend, EnvProgress, EnvSpec, PythonEnv } from "./backend";
import { readMarkedEnv, writeEnvMarker } from "./marker";
import type { BackendName } from "./request";

/**
 * The key of an environment with exactly these packages: sha256 over the backend, the sorted
 * dependencies, the channels (in order: it is their priority) and the Python request.
 */
export function envCacheKey(backend: BackendName, spec: EnvSpec): string {
  const canonical = JSON.stringify({
    backend,
    dependencies: [...spec.dependencies].sort(),
    pipDependencies: [...(spec.pipDependencies ?? [])].sort(),
    channels: spec.channels ?? [],
    python: spec.python ?? null,
  });
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * Environments built for inline or project dependencies, kept under
 * `<cacheDir>/envs/<backend>-<key>/` and reused whenever the same packages are asked for again
 * (by any notebook, across daemon restarts). Concurrent requests for one key share one build.
 */
export class EnvCache {
  private readonly pending = new Map<string, Promise<{ env: PythonEnv; reused: boolean }>>();

  constructor(private readonly cacheDir: string) {}

  /** Where the environment for `spec` built by `backend` lives. */
  dirFor(backend: BackendName, spec: EnvSpec): string {
    return join(this.cacheDir, "envs", `${backend}-${envCacheKey(backend, spec).slice(0, 16)}`);
  }

  /**
   * The cached environment for `spec`, built first if it is missing or incomplete. A failed
   * build leaves nothing behind, so the next request tries again. A request arriving while the
   * same environment is being built waits for that build (its progress goes to the first caller).
   */
  async getOrCreate(
    backend: EnvBackend,
    spec: EnvSpec,
    onProgress: (progress: EnvProgress) => void = () => {},
    signal?: AbortSignal,
  ): Promise<{ env: PythonEnv; reused: boolean }> {
    const dir = this.dirFor(backend.name, spec);
    let pending = this.pending.get(dir);
    if (!pending) {
      pending = this.reuseOrBuild(backend, dir, spec, onProgress, signal).finally(() => this.pending.delete(dir));
      this.pending.set(dir, pending);
    }
    return pending;
  }

  private async reuseOrBuild(
    backend: EnvBackend,
    dir: string,
    spec: EnvSpec,
    onProgress: (progress: EnvProgress) => void,
    signal: AbortSignal | undefined,
  ): Promise<{ env: PythonEnv; reused: boolean }> {
    const existing = await readMarkedEnv(dir);
    if (existing) {
      onProgress({ phase: "ready", fraction: 1, message: `Reusing cached environment ${dir}` });
      return { env: existing, reused: true };
    }
    return { env: await this.build(backend, dir, spec, onProgress, signal), reused: false };
  }

  private async build(
    backend: EnvBackend,
    dir: string,
    spec: EnvSpec,
    onProgress: (progress: EnvProgress) => void,
    signal: AbortSignal | undefined,
  ): Promise<PythonEnv> {
    // An unmarked directory is an interrupted build: start it over.
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(this.cacheDir, "envs"), { recursive: true });
    try {
      const env = await backend.create(dir, spec, onProgress, signal);
      await writeEnvMarker(env, { key: envCacheKey(backend.name, spec), spec });
      return env;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      onProgress({ phase: "failed", message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }
}
