/**
 * The mark a daemon stopped on purpose leaves in its cache directory (`daemon.stopped`), and
 * the next daemon to start there removes. The stop notice on the connection can be missed — a
 * client too busy to read it within the daemon's drain time is cut off first — so a client on
 * the daemon's machine looks here before it starts the daemon again after a drop.
 */
import * as fs from "node:fs";
import { daemonFiles } from "./paths";

interface StopMark {
  endpoint: string;
  pid: number;
  stopped_at: string;
}

/** Notes that the daemon serving `socketPath` from `cacheDir` is stopping on purpose. */
export function markStoppedOnPurpose(cacheDir: string, socketPath: string): void {
  const mark: StopMark = { endpoint: socketPath, pid: process.pid, stopped_at: new Date().toISOString() };
  fs.writeFileSync(daemonFiles(cacheDir).stopped, JSON.stringify(mark) + "\n", { mode: 0o600 });
}

/** A daemon starting here: whatever stopped before, this one runs. */
export function clearStopMark(cacheDir: string): void {
  fs.rmSync(daemonFiles(cacheDir).stopped, { force: true });
}

/** When the last daemon at `socketPath` was stopped on purpose and none has started since, says when (else undefined). */
export function stoppedOnPurpose(cacheDir: string, socketPath: string): string | undefined {
  try {
    const mark = JSON.parse(fs.readFileSync(daemonFiles(cacheDir).stopped, "utf8")) as Partial<StopMark>;
    return mark.endpoint === socketPath ? `at ${mark.stopped_at}, pid ${mark.pid}` : undefined;
  } catch {
    return undefined;
  }
}
