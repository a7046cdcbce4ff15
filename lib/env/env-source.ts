import { RuntimedError } from "../protocol/errors";
import type { BackendName, EnvKind } from "./request";

/** Every `envSource` a client may pass to `startKernel` for a Python kernel. */
export const ENV_SOURCES = [
  "auto",
  "uv:prewarmed",
  "conda:prewarmed",
  "venv:prewarmed",
  "uv:inline",
  "conda:inline",
  "venv:inline",
  "uv:pyproject",
  "venv:pyproject",
  "conda:pixi",
  "conda:env_yml",
] as const;

/** An `envSource` string after validation: auto-detect, or an explicit backend and kind. */
export type EnvSource = { kind: "auto" } | { kind: EnvKind; backend: BackendName };

/**
 * Validates an explicit `envSource` (`"auto"`, `"uv:prewarmed"`, `"conda:env_yml"`, ...).
 * Unknown values raise BAD_REQUEST listing the valid ones.
 */
export function parseEnvSource(envSource: string): EnvSource {
  if (!(ENV_SOURCES as readonly string[]).includes(envSource)) {
    throw new RuntimedError(
      "BAD_REQUEST",
      `Unknown envSource "${envSource}"; expected one of: ${ENV_SOURCES.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  if (envSource === "auto") return { kind: "auto" };
  const [backend, kind] = envSource.split(":") as [BackendName, EnvKind];
  return { kind, backend };
}

/** The label a kernel reports as its `envSource`: the backend that really built it, and why. */
export function envLabel(backend: BackendName, kind: EnvKind): string {
  return `${backend}:${kind}`;
}
