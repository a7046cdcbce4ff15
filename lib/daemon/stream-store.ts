import { MemoryStreamStore, type StreamStore } from "../outputs/stream-output";
import type { ContentRef } from "../outputs/manifest";
import type { BlobStore, BlobWriter } from "./blob-store";

/** Finished text held in memory before a stream output moves to a file (1 MiB). */
export const SPILL_BYTES = 1024 * 1024;

/**
 * The daemon's {@link StreamStore}: finished lines in memory while they are few, then appended
 * to a temp file in the blob store, hashed as they go. Sealing a spilled stream renames that
 * file into place: however large the output, it is written once and never copied.
 */
export class SpillingStreamStore implements StreamStore {
  private readonly memory: MemoryStreamStore;
  private file: BlobWriter | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly spillBytes = SPILL_BYTES,
  ) {
    this.memory = new MemoryStreamStore(blobs);
  }

  get bytes(): number {
    return this.file ? this.file.bytes : this.memory.bytes;
  }

  append(bytes: Uint8Array): void {
    if (this.file) return this.file.append(bytes);
    this.memory.append(bytes);
    if (this.memory.bytes < this.spillBytes) return;
    const file = this.blobs.begin("text/plain");
    try {
      file.append(this.memory.read());
    } catch (error) {
      file.abort();
      throw error;
    }
    this.file = file;
    this.memory.discard();
  }

  read(from?: number, to?: number): Uint8Array {
    return this.file ? this.file.read(from, to) : this.memory.read(from, to);
  }

  seal(tail: Uint8Array): ContentRef {
    if (!this.file) return this.memory.seal(tail);
    const file = this.file;
    try {
      file.append(tail);
      const size = file.bytes;
      return { blob: file.finish(), size };
    } catch (error) {
      file.abort();
      throw error;
    }
  }

  discard(): void {
    this.file?.abort();
    this.file = undefined;
    this.memory.discard();
  }
}
