import { RuntimedError } from "../protocol/errors";
import type { EnvProgress } from "./backend";
import { parseInstallerLine } from "./progress";
import { installerEnv, remaining } from "./python";
import { failureExcerpt, runCommand, type RunResult } from "./run";

/** What every step of one environment build shares: where, until when, and who listens. */
export interface InstallContext {
  dir: string;
  deadline: number;
  signal?: AbortSignal;
  onProgress: (progress: EnvProgress) => void;
  /** Extra environment variables for the installer (e.g. `UV_NO_PROGRESS`). */
  env?: Record<string, string>;
}

/**
 * Runs one installer command of an environment build, turning its output into progress and
 * its failure into ENV_FAILED carrying the installer's own last lines.
 */
export async function runInstallStep(context: InstallContext, command: string, args: string[], what: string): Promise<RunResult> {
  const result = await runCommand(command, args, {
    env: installerEnv(context.env),
    timeoutMs: remaining(context.deadline),
    signal: context.signal,
    onLine: (line) => {
      const progress = parseInstallerLine(line);
      if (progress) context.onProgress(progress);
    },
  });
  if (result.code !== 0) {
    throw new RuntimedError("ENV_FAILED", `${what} failed (exit ${result.code}) in ${context.dir}:\n${failureExcerpt(result.tail)}`);
  }
  return result;
}
