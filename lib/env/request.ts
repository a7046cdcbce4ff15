/** The environment backends runtimed can build with. */
export type BackendName = "uv" | "conda" | "venv";

/** Where an environment's packages come from, as the second half of an env label. */
export type EnvKind = "prewarmed" | "inline" | "pyproject" | "pixi" | "env_yml";

/**
 * What a notebook asks for, found by `detectEnvironment` (or named by an explicit `envSource`).
 * `backend` is set only when the user named one explicitly (`"venv:inline"`); otherwise the
 * resolver picks the preferred backend for the kind.
 */
export type EnvRequest =
  | {
      kind: "inline";
      /** Which metadata flavour declared the deps: uv (pip requirements) or conda (conda specs). */
      manager: "uv" | "conda";
      dependencies: string[];
      channels?: string[];
      python?: string;
      backend?: BackendName;
    }
  | { kind: "pyproject"; path: string; dependencies: string[]; python?: string; backend?: BackendName }
  | {
      kind: "pixi";
      path: string;
      dependencies: string[];
      channels: string[];
      /** Requirements from `[pypi-dependencies]`, installed with pip after conda. */
      pipDependencies: string[];
      backend?: BackendName;
    }
  | {
      kind: "env_yml";
      path: string;
      dependencies: string[];
      channels: string[];
      /** Requirements from the file's nested `- pip:` list, installed with pip after conda. */
      pipDependencies: string[];
      backend?: BackendName;
    }
  | { kind: "prewarmed"; backend?: BackendName };
