/**
 * Environment variables a reliability spec sets for itself (a daemon it starts in-process reads
 * them, a daemon its sessions spawn inherits them; each is put back after the spec), and the
 * environments it gives the daemons it spawns.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** No prewarmed environments or kernel: for specs that run no code, or run it on a kernelspec of Debian's Python. */
export const NO_PREWARMING: Readonly<Record<string, string>> = { RUNTIMED_POOL_SIZE: "0", RUNTIMED_PREWARM_KERNEL: "0" };

/** Sets `vars` in this process's environment; the returned function puts back what was there (unset stays unset). */
export function setEnv(vars: Readonly<Record<string, string>>): () => void {
  const previous = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Sets `vars` before the tests of the enclosing file or `describe`, and puts them back after. */
export function useEnv(vars: Readonly<Record<string, string>>): void {
  let restore: (() => void) | undefined;
  beforeAll(() => {
    restore = setEnv(vars);
  });
  afterAll(() => restore?.());
}

const BUILD_TOOLS = ["uv", "micromamba", "mamba", "conda"];

/** This process's PATH without the directories that hold uv or a conda: Node, and the system's tools, stay. */
export function pathWithoutBuildTools(): string {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "" && !BUILD_TOOLS.some((tool) => fs.existsSync(path.join(dir, tool))))
    .join(path.delimiter);
}
