import { access, realpath } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { RuntimedError } from "../protocol/errors";
import { parseEnvSource } from "./env-source";
import { readEnvironmentYml } from "./environment-yml";
import { findInlineDeps } from "./inline-deps";
import { readPixiManifest } from "./pixi";
import { readPyproject } from "./pyproject";
import type { EnvKind, EnvRequest } from "./request";

/** What `detectEnvironment` looks at. */
export interface DetectOptions {
  /** The room's notebook metadata: string values, JSON by convention. */
  metadata: Record<string, string>;
  /** The notebook file on disk; project files are searched from its directory upwards. */
  notebookPath?: string;
  /** Where the upward search stops (not searched itself); defaults to `os.homedir()`. */
  homeDir?: string;
  /** An explicit `envSource`; `"auto"` (the default) detects. */
  envSource?: string;
}

type ProjectKind = "pyproject" | "pixi" | "env_yml";

/** Project files in precedence order, as checked in each directory. */
const projectFiles: ReadonlyArray<{ file: string; kind: ProjectKind }> = [
  { file: "pyproject.toml", kind: "pyproject" },
  { file: "pixi.toml", kind: "pixi" },
  { file: "environment.yml", kind: "env_yml" },
  { file: "environment.yaml", kind: "env_yml" },
];

/**
 * Decides which environment a notebook needs, in runtimed's order: inline deps in the notebook
 * metadata, then the nearest project file, then a prewarmed environment.
 *
 * Project files are searched from the notebook's directory upwards; in each directory
 * `pyproject.toml` beats `pixi.toml` beats `environment.yml`/`.yaml`, and a nearer directory
 * beats a farther one. The search ends after the directory holding `.git` (the repository
 * root), before the home directory (a stray `~/pyproject.toml` should not capture every
 * notebook), or at the filesystem root. A pyproject.toml with a `[tool.pixi]` table is a pixi
 * manifest. A project file that cannot be read raises ENV_FAILED naming the file and line.
 *
 * ```ts
 * const request = await detectEnvironment({ metadata, notebookPath: "/repo/nb/a.ipynb" });
 * // { kind: "pyproject", path: "/repo/pyproject.toml", dependencies: ["pandas"] }
 * ```
 */
export async function detectEnvironment(options: DetectOptions): Promise<EnvRequest> {
  const source = parseEnvSource(options.envSource ?? "auto");
  if (source.kind === "prewarmed") return { kind: "prewarmed", backend: source.backend };
  const backend = source.kind === "auto" ? undefined : source.backend;

  if (source.kind === "auto" || source.kind === "inline") {
    const inline = findInlineDeps(options.metadata, backend === "conda" ? "conda" : backend ? "uv" : undefined);
    if (inline) {
      const request: EnvRequest = { kind: "inline", manager: inline.manager, dependencies: inline.dependencies };
      if (inline.channels) request.channels = inline.channels;
      if (inline.python !== undefined) request.python = inline.python;
      if (backend) request.backend = backend;
      return request;
    }
    if (source.kind === "inline") {
      throw new RuntimedError(
        "ENV_FAILED",
        `envSource "${options.envSource}" needs inline dependencies, but the notebook metadata has none ` +
          `(set metadata "uv" to {"dependencies": [...]} or use envSource "auto")`,
      );
    }
  }

  const only = source.kind === "auto" ? undefined : source.kind;
  if (options.notebookPath !== undefined) {
    const found = await findProjectFile(dirname(resolve(options.notebookPath)), options.homeDir ?? homedir(), only);
    if (found) {
      const request = await readProjectFile(found.path, found.kind);
      return backend ? { ...request, backend } : request;
    }
  }
  if (only) {
    const file = projectFiles.filter((p) => p.kind === only).map((p) => p.file).join(" or ");
    throw new RuntimedError(
      "ENV_FAILED",
      options.notebookPath === undefined
        ? `envSource "${options.envSource}" needs a notebookPath to find ${file}`
        : `envSource "${options.envSource}" needs ${file}, but none was found from ${dirname(resolve(options.notebookPath))} up to the repository root or home directory`,
    );
  }
  return { kind: "prewarmed" };
}

/** Walks up from `startDir` for the nearest project file (of kind `only`, when given). */
async function findProjectFile(
  startDir: string,
  homeDir: string,
  only: EnvKind | undefined,
): Promise<{ path: string; kind: ProjectKind } | undefined> {
  const home = await canonical(homeDir);
  let dir = await canonical(startDir);
  for (;;) {
    if (dir === home) return undefined;
    for (const candidate of projectFiles) {
      const path = join(dir, candidate.file);
      if (await exists(path)) {
        // A pyproject.toml can be a pixi manifest; only then does it satisfy a "pixi" search.
        if (!only || only === candidate.kind || (only === "pixi" && candidate.kind === "pyproject")) {
          const kind = await projectKind(path, candidate.kind);
          if (!only || only === kind) return { path, kind };
        }
      }
    }
    if (await exists(join(dir, ".git"))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function projectKind(path: string, kind: ProjectKind): Promise<ProjectKind> {
  if (kind !== "pyproject") return kind;
  return (await readPyproject(path)).isPixiManifest ? "pixi" : "pyproject";
}

async function readProjectFile(path: string, kind: ProjectKind): Promise<EnvRequest> {
  switch (kind) {
    case "pyproject": {
      const { dependencies, python } = await readPyproject(path);
      return python === undefined ? { kind, path, dependencies } : { kind, path, dependencies, python };
    }
    case "pixi":
      return { kind, path, ...(await readPixiManifest(path)) };
    case "env_yml":
      return { kind, path, ...(await readEnvironmentYml(path)) };
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}
