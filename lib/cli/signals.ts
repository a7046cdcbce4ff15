/** A wait for Ctrl-C (SIGINT) or SIGTERM that a command can race against its work. */
export interface SignalWait {
  /** Resolves with the first signal received. */
  readonly received: Promise<NodeJS.Signals>;
  /** Stops listening, so the process can exit on its own. */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM. While listening, the first signal no longer kills the process,
 * so the command can clean up; a second signal exits at once (status 130) in case cleanup hangs.
 */
export function waitForSignal(): SignalWait {
  const signals = ["SIGINT", "SIGTERM"] as const;
  let first = true;
  let resolveReceived!: (signal: NodeJS.Signals) => void;
  const received = new Promise<NodeJS.Signals>((resolve) => (resolveReceived = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first) process.exit(130);
    first = false;
    resolveReceived(signal);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return {
    received,
    dispose: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}
