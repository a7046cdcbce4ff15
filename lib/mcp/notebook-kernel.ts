import type { Session } from "../index";
import { kernelTypeOf, readNotebookMetadata } from "./notebook-metadata";

/** Document metadata key the daemon sets to the file a room was opened from (for project-file detection). */
const NOTEBOOK_PATH_KEY = "runtimed.notebook_path";

/** The kernel type a notebook asks for; Python when its metadata does not say (or is not readable). */
function notebookKernelType(session: Session): string {
  try {
    return kernelTypeOf(readNotebookMetadata(session));
  } catch {
    return "python";
  }
}

/**
 * Starts the notebook's kernel unless one runs: the kind its kernelspec names (so a Deno
 * notebook does not get the daemon's default Python), in the environment its metadata or
 * project files ask for. Environment build steps are reported through `progress`.
 */
export async function ensureKernel(session: Session, progress: (message: string) => void): Promise<void> {
  const subscription = session.envProgress$.subscribe((event) => {
    const detail = event.message ?? event.phase;
    progress(`Preparing the kernel's environment: ${detail}${event.package ? ` (${event.package})` : ""}`);
  });
  try {
    await session.startKernel({ kernelType: notebookKernelType(session), notebookPath: session.getMetadata(NOTEBOOK_PATH_KEY) });
  } finally {
    subscription.unsubscribe();
  }
}

/**
 * A fresh kernel: the running one is shut down and a new one started from the notebook's
 * metadata as it is now, so dependencies added since the last start are installed.
 */
export async function restartKernel(session: Session, progress: (message: string) => void): Promise<void> {
  await session.shutdownKernel();
  await ensureKernel(session, progress);
}
