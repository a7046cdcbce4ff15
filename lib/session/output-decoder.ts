import { Subject, type Observable } from "rxjs";
import { decodeManifest, fromManifestPartial, manifestBlobs } from "../outputs/manifest";
import { RuntimedError } from "../protocol/errors";
import type { BlobReader } from "./platform";
import type { Output } from "./types";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Turns output manifests (from the document or a broadcast) into the plain nbformat outputs
 * users get. Payloads in the daemon's blob store are read at once where the transport can (its
 * files, on the daemon's machine), else fetched: until a fetched blob arrives its payload reads
 * as empty, and `resolved$` says when reading again gives it whole.
 */
export class OutputDecoder {
  private readonly pending = new Map<string, Promise<void>>();
  private readonly resolvedSubject = new Subject<void>();
  /** Bumped each time a fetched blob arrives: outputs read before are stale. */
  generation = 0;

  /** Emits each time a fetched blob arrived. */
  readonly resolved$: Observable<void> = this.resolvedSubject.asObservable();

  constructor(private readonly blobs: BlobReader) {}

  /** The output a manifest describes (payloads not fetched yet read as empty). */
  decode(encoded: string): Output {
    return this.decodeWhole(encoded).output;
  }

  /** Like `decode`, and whether the output is whole (false while a payload is being fetched: read it again later). */
  decodeWhole(encoded: string): { output: Output; whole: boolean } {
    const { output, missing } = fromManifestPartial(decodeManifest(encoded), (hash) => this.readSync(hash));
    for (const hash of missing) this.fetch(hash);
    return { output, whole: missing.length === 0 };
  }

  /** The blobs of these manifests that are not readable yet (fetching them). */
  missing(encoded: readonly string[]): string[] {
    const missing: string[] = [];
    for (const one of encoded) {
      for (const hash of manifestBlobs(decodeManifest(one))) {
        if (this.readSync(hash) === undefined) missing.push(hash);
      }
    }
    for (const hash of missing) this.fetch(hash);
    return missing;
  }

  /** Resolves once every blob being fetched has arrived (or failed). */
  async whenResolved(hashes: readonly string[] = [...this.pending.keys()]): Promise<void> {
    await Promise.all(hashes.map((hash) => this.pending.get(hash)));
  }

  close(): void {
    this.blobs.close();
    this.resolvedSubject.complete();
  }

  private readSync(hash: string): Uint8Array | undefined {
    if (!SHA256_HEX.test(hash)) throw new RuntimedError("PROTOCOL", `Malformed blob hash ${JSON.stringify(hash)} in an output manifest`);
    return this.blobs.readSync(hash);
  }

  private fetch(hash: string): void {
    if (this.pending.has(hash)) return;
    const done = this.blobs.read(hash).then(
      () => {
        this.generation++;
        this.resolvedSubject.next();
      },
      () => {
        // Read again later: a blob that cannot be had now reads as empty meanwhile.
        // (nothing to do: the next read fetches it again)
      },
    );
    this.pending.set(hash, done.finally(() => this.pending.delete(hash)));
  }
}
