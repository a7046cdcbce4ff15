/**
 * Kernelspecs the reliability suite installs for itself under a temp `JUPYTER_PATH`: ipykernel
 * on Debian's Python (no environment to build), and variants of it (one slow to start).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { setEnv } from "./environment";

/** Debian's Python, which has ipykernel (the `python3` first on PATH may not). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** ipykernel's argv, as Jupyter's own python3 kernelspec has it. */
export const IPYKERNEL_ARGV = [SYSTEM_PYTHON, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"];

/** Writes `<jupyterPath>/kernels/<name>/kernel.json` starting `argv`. */
export function installKernelSpec(jupyterPath: string, name: string, argv: string[]): void {
  const specDir = path.join(jupyterPath, "kernels", name);
  fs.mkdirSync(specDir, { recursive: true });
  fs.writeFileSync(
    path.join(specDir, "kernel.json"),
    JSON.stringify({ argv, display_name: name, language: "python", env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" } }),
  );
}

/**
 * Sets `JUPYTER_PATH` for this process (an in-process daemon reads kernelspecs at launch, a
 * spawned one inherits it); the returned function puts the previous value back.
 */
export function useJupyterPath(jupyterPath: string): () => void {
  return setEnv({ JUPYTER_PATH: jupyterPath });
}
