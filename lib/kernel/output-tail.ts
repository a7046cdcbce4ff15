import type { Readable } from "node:stream";

/**
 * Keeps the last few KiB a child process wrote, so a failed kernel start can say why without
 * ever letting a full pipe block the kernel.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes = 16 * 1024) {}

  /** Drains `stream` into the tail (keeps it flowing for as long as it is open). */
  follow(stream: Readable | null): void {
    if (stream === null) return;
    stream.on("data", (chunk: Buffer) => this.push(chunk));
    stream.on("error", () => undefined);
  }

  /** Appends a chunk, dropping the oldest bytes beyond the limit. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.maxBytes && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
    if (this.size > this.maxBytes) {
      this.chunks[0] = this.chunks[0].subarray(this.size - this.maxBytes);
      this.size = this.maxBytes;
    }
  }

  /** The last `count` non-empty lines written. */
  lastLines(count: number): string[] {
    const lines = Buffer.concat(this.chunks).toString("utf8").split(/\r?\n/);
    return lines.filter((line) => line.trim().length > 0).slice(-count);
  }
}
