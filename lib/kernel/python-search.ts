import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter } from "node:path";
import { findKernelSpec, whichAll } from "./kernelspec";

/**
 * The environment variable that says which Python interpreters runtimed may use for Python
 * kernels: paths or names on PATH, separated like PATH (`:`), tried in order. When it is set,
 * only those are tried (an empty value: none, so Python kernels need uv or conda); when it is
 * not, the `python3` kernelspec's interpreter, each `python3` on PATH, then /usr/bin/python3.
 */
export const PYTHON_ENV_VAR = "RUNTIMED_PYTHON";

/** How to get ipykernel, for messages. */
export const IPYKERNEL_INSTALL_HINT =
  "install it with `apt-get install python3-ipykernel python3-venv` (Debian, Ubuntu) or `pip install ipykernel`";

/** The result of looking for a Python that can run ipykernel. */
export interface PythonSearch {
  /** The first interpreter that can `import ipykernel`, if any. */
  ipykernel?: string;
  /** The first candidate that exists at all (with or without ipykernel), if any. */
  anyPython?: string;
  /** Every interpreter tried, in order, for messages. */
  tried: string[];
  /** True when `RUNTIMED_PYTHON` chose the candidates. */
  restricted: boolean;
}

/** True when `python` runs and can import ipykernel. */
export function canImportIpykernel(python: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(python, ["-c", "import ipykernel"], { timeout: 20_000, windowsHide: true }, (error) => resolve(error === null));
  });
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The interpreters to try, in order, and whether `RUNTIMED_PYTHON` named them. */
async function candidates(setting: string | undefined): Promise<{ paths: string[]; restricted: boolean }> {
  if (setting !== undefined) {
    const paths: string[] = [];
    for (const entry of setting.split(delimiter).map((item) => item.trim()).filter((item) => item !== "")) {
      // A bare name is looked up on PATH; one that is not there is still reported as tried.
      paths.push(entry.includes("/") ? entry : ((await whichAll(entry))[0] ?? entry));
    }
    return { paths: [...new Set(paths)], restricted: true };
  }
  const paths: string[] = [];
  const spec = await findKernelSpec("python3");
  if (spec !== undefined) paths.push(spec.argv[0]!);
  paths.push(...(await whichAll("python3")));
  if (process.platform !== "win32") paths.push("/usr/bin/python3");
  return { paths: [...new Set(paths)], restricted: false };
}

async function search(setting: string | undefined): Promise<PythonSearch> {
  const { paths, restricted } = await candidates(setting);
  const result: PythonSearch = { tried: paths, restricted };
  for (const path of paths) {
    if (!(await executable(path))) continue;
    result.anyPython ??= path;
    if (await canImportIpykernel(path)) {
      result.ipykernel = path;
      break;
    }
  }
  return result;
}

const searches = new Map<string, Promise<PythonSearch>>();

/**
 * Looks for a Python that can run ipykernel, honouring `RUNTIMED_PYTHON`. Searched once per
 * process (and value of the variable).
 */
export function searchPython(): Promise<PythonSearch> {
  const setting = process.env[PYTHON_ENV_VAR];
  const key = setting === undefined ? "\0default" : setting;
  let found = searches.get(key);
  if (!found) searches.set(key, (found = search(setting)));
  return found;
}

/**
 * The first Python that can `import ipykernel`: the interpreters `RUNTIMED_PYTHON` names, else
 * the `python3` kernelspec's interpreter, each `python3` on PATH, then /usr/bin/python3.
 */
export async function findIpykernelPython(): Promise<string | undefined> {
  return (await searchPython()).ipykernel;
}

/** One line saying that no interpreter can run ipykernel, which were tried, and how to fix it. */
export function noIpykernelMessage(search: PythonSearch): string {
  const tried = search.tried.length === 0 ? `${PYTHON_ENV_VAR} names none` : `tried ${search.tried.join(", ")}${search.restricted ? `, as ${PYTHON_ENV_VAR} says` : ""}`;
  return `No Python that can import ipykernel was found (${tried}); ${IPYKERNEL_INSTALL_HINT}`;
}
