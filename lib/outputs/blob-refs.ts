/**
 * Which blobs a notebook document refers to: what the daemon's blob collector must keep. Both
 * functions read untrusted input (documents on disk, manifests a client wrote) and err on the
 * side of keeping: anything that looks like a blob hash where one could be counts.
 */

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SHA256_HEX_ANYWHERE = /[0-9a-f]{64}/g;

/**
 * The blob hashes one encoded output manifest (a `cells[*].outputs` entry) refers to: every
 * `blob` field holding a sha256 hex, at any depth. Text that is not JSON is searched for
 * anything shaped like a hash, since nobody can tell what it meant to refer to.
 */
export function manifestBlobHashes(encoded: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(encoded);
  } catch {
    return encoded.match(SHA256_HEX_ANYWHERE) ?? [];
  }
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== "object" || node === null) return;
    for (const [key, child] of Object.entries(node)) {
      if (key === "blob" && typeof child === "string" && SHA256_HEX.test(child)) found.push(child);
      else visit(child);
    }
  };
  visit(value);
  return found;
}

/**
 * Adds to `into` (and returns it) every blob hash the outputs of a notebook document refer to.
 * `doc` is a `NotebookDoc` or anything loaded from disk: parts that do not have the schema's
 * shape are skipped, not fatal.
 */
export function notebookBlobHashes(doc: unknown, into: Set<string> = new Set()): Set<string> {
  const cells = (doc as { cells?: unknown } | null | undefined)?.cells;
  if (!Array.isArray(cells)) return into;
  for (const cell of cells) {
    const outputs = (cell as { outputs?: unknown } | null | undefined)?.outputs;
    if (!Array.isArray(outputs)) continue;
    for (const output of outputs) {
      const encoded = textOf(output);
      if (encoded !== undefined) for (const hash of manifestBlobHashes(encoded)) into.add(hash);
    }
  }
  return into;
}

/** A string as the document stores it: plain, or an Automerge ImmutableString (`.val`). */
function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  const val = (value as { val?: unknown } | null | undefined)?.val;
  return typeof val === "string" ? val : undefined;
}
