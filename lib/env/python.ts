import { join } from "node:path";

/** The interpreter inside an environment directory (venv, uv or conda layout). */
export function envPython(dir: string): string {
  return process.platform === "win32" ? join(dir, "Scripts", "python.exe") : join(dir, "bin", "python");
}

/** Environment for installer commands: never prompt, never buffer the lines we parse. */
export function installerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PIP_NO_INPUT: "1", PYTHONUNBUFFERED: "1", ...extra };
}

/** Milliseconds left before `deadline`, at least 1 so that an expired budget times out at once. */
export function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}
