import { constants } from "node:fs";
import { access, readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";

/** A Jupyter kernelspec: how to start one kind of kernel (from `kernels/<name>/kernel.json`). */
export interface KernelSpec {
  /** The directory name, lower-cased, as Jupyter keys kernelspecs. */
  name: string;
  displayName: string;
  language: string;
  /** Command line; `{connection_file}` and `{resource_dir}` are substituted at launch. */
  argv: string[];
  env: Record<string, string>;
  interruptMode: "signal" | "message";
  /** The directory holding kernel.json (logos, extra files); empty for built-in specs. */
  resourceDir: string;
}

function userDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  const home = homedir();
  if (process.platform === "darwin") return join(home, "Library", "Jupyter");
  if (process.platform === "win32") return join(process.env.APPDATA ?? home, "jupyter");
  return join(process.env.XDG_DATA_HOME ?? join(home, ".local", "share"), "jupyter");
}

function pathEntries(): string[] {
  return (process.env.PATH ?? "").split(delimiter).filter((entry) => entry.length > 0);
}

/** Every executable named `command` on PATH, in PATH order. */
export async function whichAll(command: string): Promise<string[]> {
  const found: string[] = [];
  for (const directory of pathEntries()) {
    const candidate = join(directory, command);
    try {
      await access(candidate, constants.X_OK);
      found.push(candidate);
    } catch {
      // Not here; keep looking.
    }
  }
  return found;
}

/**
 * The Jupyter data directories searched for `kernels/`, highest priority first: `JUPYTER_PATH`,
 * the user data dir, environment prefixes (`$VIRTUAL_ENV`, `$CONDA_PREFIX`, and the prefix of
 * each Python on PATH), then the system dirs.
 */
export async function jupyterDataDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const entry of (process.env.JUPYTER_PATH ?? "").split(delimiter)) if (entry) dirs.push(entry);
  dirs.push(userDataDir());
  for (const prefix of [process.env.VIRTUAL_ENV, process.env.CONDA_PREFIX]) {
    if (prefix) dirs.push(join(prefix, "share", "jupyter"));
  }
  // A venv's python is <prefix>/bin/python3: its sys.prefix is two levels up, symlinks unresolved.
  for (const python of await whichAll(process.platform === "win32" ? "python.exe" : "python3")) {
    dirs.push(join(dirname(dirname(python)), "share", "jupyter"));
  }
  if (process.platform !== "win32") dirs.push("/usr/local/share/jupyter", "/usr/share/jupyter");
  else if (process.env.PROGRAMDATA) dirs.push(join(process.env.PROGRAMDATA, "jupyter"));
  return [...new Set(dirs)];
}

function isStringRecord(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((entry) => typeof entry === "string");
}

/** Checks a parsed kernel.json; returns undefined when it cannot launch anything. */
export function parseKernelSpec(name: string, resourceDir: string, json: unknown): KernelSpec | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const spec = json as Record<string, unknown>;
  const argv = spec.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((arg) => typeof arg === "string")) {
    return undefined;
  }
  return {
    name,
    displayName: typeof spec.display_name === "string" ? spec.display_name : name,
    language: typeof spec.language === "string" ? spec.language : "",
    argv: argv as string[],
    env: isStringRecord(spec.env) ? spec.env : {},
    interruptMode: spec.interrupt_mode === "message" ? "message" : "signal",
    resourceDir,
  };
}

async function specsIn(dataDir: string): Promise<KernelSpec[]> {
  const kernelsDir = join(dataDir, "kernels");
  let names: string[];
  try {
    names = await readdir(kernelsDir);
  } catch {
    return [];
  }
  const specs = await Promise.all(
    names.map(async (entry) => {
      const resourceDir = join(kernelsDir, entry);
      try {
        const text = await readFile(join(resourceDir, "kernel.json"), "utf8");
        return parseKernelSpec(entry.toLowerCase(), resourceDir, JSON.parse(text));
      } catch {
        return undefined; // Unreadable or broken kernel.json: Jupyter skips it too.
      }
    }),
  );
  return specs.filter((spec): spec is KernelSpec => spec !== undefined);
}

/**
 * Every kernelspec installed, keyed by name; where two data dirs hold the same name the
 * higher-priority dir (see `jupyterDataDirs`) wins.
 */
export async function findKernelSpecs(): Promise<Map<string, KernelSpec>> {
  const found = new Map<string, KernelSpec>();
  const perDir = await Promise.all((await jupyterDataDirs()).map(specsIn));
  for (const specs of perDir) {
    for (const spec of specs) if (!found.has(spec.name)) found.set(spec.name, spec);
  }
  return found;
}

/** The kernelspec called `name` (case-insensitive), or undefined when none is installed. */
export async function findKernelSpec(name: string): Promise<KernelSpec | undefined> {
  return (await findKernelSpecs()).get(name.toLowerCase());
}

/**
 * A kernelspec that runs ipykernel with `python`; frozen modules are off so the debugger
 * does not warn on every start.
 */
export function pythonKernelSpec(python: string): KernelSpec {
  return {
    name: "python3",
    displayName: "Python 3 (ipykernel)",
    language: "python",
    argv: [python, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    env: {},
    interruptMode: "signal",
    resourceDir: "",
  };
}
