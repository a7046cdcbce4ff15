/**
 * Everything the benchmark started, undone in reverse order: on success, on error, on Ctrl-C.
 * An action may be async (a graceful shutdown); `kill` is the synchronous last resort run when
 * the process exits before the graceful path finished.
 */
interface CleanupEntry {
  action: () => void | Promise<void>;
  kill?: () => void;
}

const entries: CleanupEntry[] = [];
let running: Promise<void> | undefined;

/** Registers something to undo; returns a function that unregisters it (when it was undone early). */
export function registerCleanup(action: () => void | Promise<void>, kill?: () => void): () => void {
  const entry = { action, kill };
  entries.push(entry);
  return () => {
    const index = entries.indexOf(entry);
    if (index >= 0) entries.splice(index, 1);
  };
}

/** Runs every registered action, newest first, each bounded in time; errors are reported, not thrown. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (entries.length > 0) {
      const entry = entries.pop()!;
      try {
        await Promise.race([entry.action(), new Promise((_, reject) => setTimeout(() => reject(new Error("cleanup step timed out")), 15_000).unref())]);
      } catch (error) {
        process.stderr.write(`bench cleanup: ${(error as Error).message}\n`);
        entry.kill?.();
      }
    }
  })();
  return running;
}

/** Ctrl-C / SIGTERM run the cleanup, then exit; a second Ctrl-C kills what is left at once. */
export function installSignalHandlers(): void {
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) {
        for (const entry of entries) entry.kill?.();
        process.exit(130);
      }
      interrupted = true;
      process.stderr.write(`\nbench: ${signal}, cleaning up (again to force)…\n`);
      void runCleanup().finally(() => process.exit(130));
    });
  }
  process.on("exit", () => {
    for (const entry of entries) entry.kill?.();
  });
}
