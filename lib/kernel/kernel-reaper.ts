/**
 * The kernels this process started and has not seen exit. When Node exits, each is killed
 * synchronously, so a crashing or exiting parent never leaves kernels behind.
 */
const liveKernels = new Set<() => void>();
let hooked = false;

function killAll(): void {
  for (const kill of liveKernels) {
    try {
      kill();
    } catch {
      // Exiting anyway; kill what we can.
    }
  }
  liveKernels.clear();
}

/**
 * Registers `killSync` to run if the process exits while the kernel lives; returns the function
 * that unregisters it (call it once the kernel has exited).
 */
export function reapOnExit(killSync: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.on("exit", killAll);
  }
  liveKernels.add(killSync);
  return () => {
    liveKernels.delete(killSync);
  };
}
