import { spawn } from "node:child_process";
import { RuntimedError } from "../protocol/errors";

/** How to run one installer command. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the command (and its children) after this long; ENV_FAILED names the timeout. */
  timeoutMs?: number;
  /** Aborting kills the command (and its children) and rejects with CANCELLED. */
  signal?: AbortSignal;
  /** Each line of stdout and stderr as it arrives. */
  onLine?: (line: string) => void;
}

/** How a command ended: its exit code and the last lines it printed (stdout and stderr). */
export interface RunResult {
  code: number | null;
  tail: string[];
}

const tailLength = 40;
const killGraceMs = 2_000;

/**
 * Runs an installer command to completion in its own process group, so that a timeout or an
 * abort kills everything it started (pip's and conda's children too). Resolves once the
 * process has exited and its pipes have closed, whatever its exit code.
 */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new RuntimedError("CANCELLED", `Cancelled before running ${command}`));
      return;
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const tail: string[] = [];
    let stopReason: "timeout" | "abort" | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const stop = (reason: "timeout" | "abort") => {
      if (stopReason) return;
      stopReason = reason;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), killGraceMs);
    };
    const timeout = options.timeoutMs === undefined ? undefined : setTimeout(() => stop("timeout"), options.timeoutMs);
    const onAbort = () => stop("abort");
    options.signal?.addEventListener("abort", onAbort, { once: true });

    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (partial + chunk).split(/\r?\n|\r/);
        partial = lines.pop() ?? "";
        lines.forEach(emit);
      });
      stream.on("end", () => {
        if (partial !== "") emit(partial);
        partial = "";
      });
    }
    function emit(line: string) {
      if (line.trim() === "") return;
      tail.push(line);
      if (tail.length > tailLength) tail.shift();
      options.onLine?.(line);
    }

    const finish = () => {
      if (timeout) clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener("abort", onAbort);
      // The leader is gone; make sure nothing it started outlives it.
      killGroup("SIGKILL");
    };
    child.on("error", (error) => {
      finish();
      reject(new RuntimedError("ENV_FAILED", `Could not run ${command}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code) => {
      finish();
      if (stopReason === "abort") reject(new RuntimedError("CANCELLED", `Cancelled: ${command} ${args.join(" ")}`));
      else if (stopReason === "timeout") {
        reject(
          new RuntimedError(
            "ENV_FAILED",
            `${command} ${args.slice(0, 3).join(" ")} ... did not finish within ${Math.round(options.timeoutMs! / 1000)} s and was stopped` +
              (tail.length ? `; its last output:\n${tail.slice(-10).join("\n")}` : ""),
          ),
        );
      } else resolve({ code, tail });
    });
  });
}

/** The lines to quote from a failed installer: its ERROR lines if any, else its last lines. */
export function failureExcerpt(tail: string[], lines = 12): string {
  const errors = tail.filter((line) => /^\s*(error|ERROR|×|critical|CondaError|LibMambaUnsatisfiableError)/.test(line));
  return (errors.length ? errors : tail).slice(-lines).join("\n");
}
