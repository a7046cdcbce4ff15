import { access, readFile, rename, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { PythonEnv } from "./backend";
import type { BackendName } from "./request";

/** The file written into an environment once it is completely built. */
export const ENV_MARKER = "runtimed-env.json";

const backendNames: readonly string[] = ["uv", "conda", "venv"];

/**
 * Marks `env` as complete. Written last and atomically (temp file + rename), so a directory
 * with a marker is a finished build, and one without is a crash's leftovers.
 */
export async function writeEnvMarker(env: PythonEnv, extra: Record<string, unknown> = {}): Promise<void> {
  const path = join(env.dir, ENV_MARKER);
  const body = { backend: env.backend, python: env.python, created_at: new Date().toISOString(), ...extra };
  await writeFile(`${path}.tmp`, JSON.stringify(body, null, 2) + "\n");
  await rename(`${path}.tmp`, path);
}

/** The environment in `dir` if its marker is valid and its interpreter still exists. */
export async function readMarkedEnv(dir: string): Promise<PythonEnv | undefined> {
  try {
    const marker: unknown = JSON.parse(await readFile(join(dir, ENV_MARKER), "utf8"));
    if (typeof marker !== "object" || marker === null) return undefined;
    const { backend, python } = marker as { backend?: unknown; python?: unknown };
    if (typeof backend !== "string" || !backendNames.includes(backend) || typeof python !== "string") return undefined;
    await access(python);
    return { python, dir, backend: backend as BackendName };
  } catch {
    return undefined;
  }
}

/** Removes the marker at once (synchronously), so the directory no longer counts as a free env. */
export function removeEnvMarkerSync(dir: string): void {
  rmSync(join(dir, ENV_MARKER), { force: true });
}
