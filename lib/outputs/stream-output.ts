import type * as nbformat from "@jupyterlab/nbformat";
import { BLOB_THRESHOLD_BYTES, utf8Ref, type BlobSink, type ContentRef } from "./manifest";
import { concatBytes, formatBytes } from "../protocol/bytes";
import { StreamTerminal } from "./stream-terminal";

/**
 * Where a stream output keeps its finished lines (UTF-8): in memory, or (the daemon's) in a file
 * once they grow large, so that a stream of any size costs memory for its unfinished lines only.
 */
export interface StreamStore {
  /** Adds finished text. May throw (a full disk); the output then ends with a notice. */
  append(bytes: Uint8Array): void;
  /** Bytes held. */
  readonly bytes: number;
  /** Bytes [from, to) held (default: all; a spilled store reads its file back). Works after `seal` too. */
  read(from?: number, to?: number): Uint8Array;
  /** The bytes held plus `tail` as a content reference, inline or a blob. Ends the store. */
  seal(tail: Uint8Array): ContentRef;
  /** Frees what the store holds (the output was cleared). */
  discard(): void;
}

/** What a stream output gained since it was last sent live. */
export interface StreamDelta {
  /** Finished bytes the receiver already has. */
  offset: number;
  /** Finished text since then, as UTF-8. */
  appended: Uint8Array;
  /** The unfinished tail now. */
  tail: string;
}

/** Options of {@link StreamOutput}. */
export interface StreamOutputOptions {
  /** Where finished lines go (default: memory). */
  store?: StreamStore;
  /** Beyond this many bytes the output ends with a notice and drops the rest (default 1 GiB). */
  maxBytes?: number;
}

/** Default for `maxBytes`, also `RUNTIMED_MAX_OUTPUT_BYTES`' default. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024 * 1024;
/** How much of a large stream an intermediate document write shows: its last lines. */
const PREVIEW_CHARS = 1024;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8");

/**
 * One stream output (stdout or stderr) of a running cell, growing: chunks go through a
 * {@link StreamTerminal}; lines it finishes go to a {@link StreamStore} and are queued as the
 * next live delta; the unfinished tail stays in the terminal.
 *
 * ```ts
 * const stdout = new StreamOutput("stdout");
 * await stdout.write("step 1\r");
 * stdout.takeDelta(); // { offset: 0, appended: <0 bytes>, tail: "step 1" }
 * ```
 */
export class StreamOutput {
  private readonly terminal: StreamTerminal;
  readonly store: StreamStore;
  private readonly maxBytes: number;
  /** Finished text not yet sent live. */
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  /** Finished bytes sent live so far. */
  private sentBytes = 0;
  /** The last finished lines, for previews while the cell runs. */
  private recent = "";
  /** Set once the output stops growing: over its size limit, or its store failed. */
  private stoppedBy: string | undefined;
  private closed = false;
  private discarded = false;

  constructor(
    readonly name: nbformat.StreamType,
    options: StreamOutputOptions = {},
  ) {
    this.store = options.store ?? new MemoryStreamStore();
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.terminal = new StreamTerminal({ onCompleted: (text) => this.finished(text) });
  }

  /** The unfinished last line(s). */
  get tail(): string {
    return this.terminal.unfinished;
  }

  /** Bytes of finished text held (the tail is not counted). */
  get bytes(): number {
    return this.store.bytes;
  }

  /** Finished bytes waiting for the next delta. */
  get pendingBytes(): number {
    return this.pendingLength;
  }

  /** True once the output dropped text (over `maxBytes`, or its store failed). */
  get isTruncated(): boolean {
    return this.stoppedBy !== undefined;
  }

  /** Applies a chunk: synchronously when it can (returns undefined), else resolves once applied. */
  write(chunk: string): Promise<void> | undefined {
    if (this.stoppedBy !== undefined || this.closed) return undefined;
    if (this.terminal.tryAppend(chunk) !== undefined) return undefined;
    return this.terminal.write(chunk).then(() => undefined);
  }

  /** What changed since the last delta, or undefined when nothing did since `tail` was last sent. */
  takeDelta(lastTail: string | undefined): StreamDelta | undefined {
    const tail = this.tail;
    if (this.pendingLength === 0 && tail === lastTail) return undefined;
    const appended = concatBytes(this.pending, this.pendingLength);
    const delta = { offset: this.sentBytes, appended, tail };
    this.sentBytes += this.pendingLength;
    this.pending = [];
    this.pendingLength = 0;
    return delta;
  }

  /** Finished bytes handed out as deltas so far. */
  get deltaBytes(): number {
    return this.sentBytes;
  }

  /** False once the output was cleared (its text is gone). */
  get isDiscarded(): boolean {
    return this.discarded;
  }

  /** Bytes [from, to) of the finished text (for a receiver catching up). */
  read(from: number, to: number): Uint8Array {
    return this.store.read(from, to);
  }

  /**
   * The text to store while the cell still runs: all of it while small, else its last lines
   * under a line saying how much is above (the whole text is stored when the cell ends).
   */
  preview(): string {
    const tail = this.tail;
    if (this.store.bytes + tail.length * 3 < BLOB_THRESHOLD_BYTES) return utf8Decoder.decode(this.store.read()) + tail;
    return `[… ${formatBytes(this.store.bytes - byteLength(this.recent))} above, stored when the cell finishes …]\n${this.recent}${tail}`;
  }

  /** Ends the output: its whole text as a content reference (a blob when large). */
  seal(): ContentRef {
    this.close();
    return this.store.seal(utf8Encoder.encode(this.tail));
  }

  /** The output as nbformat, reading back everything stored (for small outputs and tests). */
  toOutput(): nbformat.IStream {
    return { output_type: "stream", name: this.name, text: utf8Decoder.decode(this.store.read()) + this.tail };
  }

  /** No more chunks: frees the terminal; the text stays. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.terminal.dispose();
  }

  /** The output was cleared: frees everything. */
  discard(): void {
    this.close();
    this.discarded = true;
    this.store.discard();
  }

  private finished(text: string): void {
    if (this.stoppedBy !== undefined) return;
    let shown = text;
    let bytes = utf8Encoder.encode(text);
    if (this.store.bytes + bytes.byteLength > this.maxBytes) {
      this.stoppedBy = `this output passed ${formatBytes(this.maxBytes)}; the rest was dropped (raise RUNTIMED_MAX_OUTPUT_BYTES to keep more)`;
      shown = `\n[runtimed: ${this.stoppedBy}]\n`;
      bytes = utf8Encoder.encode(shown);
    }
    try {
      this.store.append(bytes);
    } catch (error) {
      // The notice still goes out live, and into the preview, though the store has no room for it.
      this.stoppedBy = `could not store this output (${(error as Error).message}); the rest was dropped`;
      shown = `\n[runtimed: ${this.stoppedBy}]\n`;
      bytes = utf8Encoder.encode(shown);
    }
    this.pending.push(bytes);
    this.pendingLength += bytes.byteLength;
    this.recent = lastLines(this.recent + (shown.length > PREVIEW_CHARS ? shown.slice(shown.length - PREVIEW_CHARS) : shown));
  }
}

/** A {@link StreamStore} in memory; seals to a blob in `blobs` when given and large enough. */
export class MemoryStreamStore implements StreamStore {
  private chunks: Uint8Array[] = [];
  private held = 0;

  constructor(private readonly blobs?: BlobSink) {}

  get bytes(): number {
    return this.held;
  }

  append(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.held += bytes.byteLength;
  }

  read(from = 0, to = this.held): Uint8Array {
    const all = concatBytes(this.chunks, this.held);
    this.chunks = [all];
    return from === 0 && to === this.held ? all : all.subarray(from, to);
  }

  seal(tail: Uint8Array): ContentRef {
    this.append(tail);
    return utf8Ref(this.read(), "text/plain", this.blobs);
  }

  discard(): void {
    this.chunks = [];
    this.held = 0;
  }
}

/** The last lines of `text` within PREVIEW_CHARS, starting at a line start when one is in reach. */
function lastLines(text: string): string {
  if (text.length <= PREVIEW_CHARS) return text;
  const cut = text.slice(text.length - PREVIEW_CHARS);
  const lineStart = cut.indexOf("\n");
  return lineStart >= 0 && lineStart < cut.length - 1 ? cut.slice(lineStart + 1) : cut;
}


function byteLength(text: string): number {
  return utf8Encoder.encode(text).byteLength;
}
