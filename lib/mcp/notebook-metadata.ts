import { RuntimedError, type Session } from "../index";

/**
 * The document metadata key holding the notebook's nbformat metadata as JSON text: what a saved
 * .ipynb carries (kernelspec, inline dependencies under `runt`) and what environment detection reads.
 */
export const NOTEBOOK_METADATA_KEY = "notebook_metadata";

/** The notebook's nbformat metadata as an object ({} when it has none); BAD_REQUEST when it is not a JSON object. */
export function readNotebookMetadata(session: Session): Record<string, unknown> {
  const text = session.getMetadata(NOTEBOOK_METADATA_KEY);
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RuntimedError("BAD_REQUEST", `The notebook's ${NOTEBOOK_METADATA_KEY} metadata is not JSON (${(error as Error).message}); fix it before changing it here`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RuntimedError("BAD_REQUEST", `The notebook's ${NOTEBOOK_METADATA_KEY} metadata is not a JSON object; fix it before changing it here`);
  }
  return value as Record<string, unknown>;
}

/** Replaces the notebook's nbformat metadata (local-first, like every document edit). */
export function writeNotebookMetadata(session: Session, metadata: Record<string, unknown>): void {
  session.setMetadata(NOTEBOOK_METADATA_KEY, JSON.stringify(metadata));
}

/** The nbformat `kernelspec` and `language_info` a new notebook of `kernel` carries, as Jupyter writes them. */
export function kernelspecMetadata(kernel: string): Record<string, unknown> {
  if (kernel === "python") {
    return { kernelspec: { name: "python3", display_name: "Python 3", language: "python" }, language_info: { name: "python" } };
  }
  if (kernel === "deno") {
    return { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" }, language_info: { name: "typescript" } };
  }
  return { kernelspec: { name: kernel, display_name: kernel } };
}

/**
 * The kernel a notebook asks for, from its kernelspec (as `runtimed run` reads a file): Deno for
 * TypeScript notebooks, a named kernelspec for other languages, else Python.
 */
export function kernelTypeOf(metadata: Record<string, unknown>): string {
  const kernelspec = (metadata.kernelspec ?? {}) as { name?: unknown; language?: unknown };
  const languageInfo = (metadata.language_info ?? {}) as { name?: unknown };
  const name = typeof kernelspec.name === "string" ? kernelspec.name : undefined;
  const language = String(kernelspec.language ?? languageInfo.name ?? "python").toLowerCase();
  if (/deno/i.test(name ?? "") || language === "typescript") return "deno";
  if (language === "python" || !name) return "python";
  return name;
}
