import type * as nbformat from "@jupyterlab/nbformat";
import type { KernelHandle } from "../kernel/kernel-handle";
import type { JupyterMessage } from "../kernel/wire";
import { findCellIndex, setCellOutputs, setExecutionCount } from "../notebook/cells";
import { CellOutputs, type OutputChange, type OutputEntry } from "../outputs/cell-outputs";
import { encodeManifest, toManifest, type BlobSink } from "../outputs/manifest";
import { StreamOutput, type StreamStore } from "../outputs/stream-output";
import { RuntimedError, type RuntimedErrorCode } from "../protocol/errors";
import type { Broadcast, QueueEntry } from "../protocol/messages";
import { encodeStreamAppend } from "../protocol/stream-append";
import type { StreamSource } from "./peer-outbox";
import type { RoomDocument } from "./room-document";

/** What an execution needs from its room. */
export interface ExecutionHost {
  readonly document: RoomDocument;
  /** Where large payloads go when outputs are written into the document. */
  readonly blobs?: BlobSink;
  /** Where a new stream output keeps its finished lines (default: memory). */
  createStreamStore?(): StreamStore;
  /** Largest single stream output (default 1 GiB). */
  readonly maxOutputBytes?: number;
  /** Sends a broadcast to every client (to `only`, when given). */
  broadcast(message: Broadcast, only?: unknown): void;
  /** Sends a live piece of a stream output to every client (starting at byte `offset` of its finished text). */
  broadcastStream(source: StreamSource, offset: number, appended: Uint8Array, tail: string): void;
  /** Sends a stream output from its start to one client (it joined while the cell runs). */
  restateStream(source: StreamSource, peer: unknown): void;
  /** A display with this id now shows at this output index of this cell (for update_display_data). */
  noteDisplay(displayId: string, cellId: string, index: number): void;
  /** The cell's outputs were cleared: its displays are gone. */
  forgetDisplays(cellId: string): void;
  /** Applies update_display_data to every other cell showing the display. */
  updateDisplayElsewhere(displayId: string, content: Record<string, unknown>, exceptCellId: string): void;
  /** Makes `write` (this cell's final document write) a moment later, with other cells' (guarded: a throw is logged). */
  writeAfterResult(cellId: string, write: () => void): void;
  /** Something went wrong that the execution survives (logged by the room). */
  warn(message: string, fields: Record<string, unknown>): void;
}

/** How to run the cell's code. */
export interface ExecutionStartOptions {
  /** Let the code ask for input (`input()`); `false`: the kernel fails `input()` at once (batch runs; default true). */
  allowStdin?: boolean;
}

// Document writes while a cell runs: often enough for late joiners to see progress, rarely
// enough that a chatty cell's history stays bounded (the interval grows with the output size).
// A large stream is written as a short preview until the cell ends, so no write copies it.
const MIN_WRITE_INTERVAL_MS = 50;
const MAX_WRITE_INTERVAL_MS = 2000;
const BYTES_PER_EXTRA_MS = 512;
// Live events: at most one per output per interval while a cell is chatty. Streams send only
// what they gained; other outputs are sent whole, so their interval grows with their size.
const LIVE_INTERVAL_MS = 10;
const MAX_LIVE_INTERVAL_MS = 1000;
const LIVE_BYTES_PER_EXTRA_MS = 64 * 1024;
// A non-stream output larger than this goes live as blob references, not inline.
const LIVE_INLINE_MAX_BYTES = 1024 * 1024;
// Stream text goes out in frames of at most this much (a single print may be larger than a frame).
const STREAM_FRAME_BYTES = 16 * 1024 * 1024;
// A stream that gained this much since its last live event sends it at once rather than at the
// interval's end: under a flood of kernel messages timers run late, and the text must not pile up.
const MAX_PENDING_LIVE_BYTES = 4 * 1024 * 1024;

/**
 * One run of one cell on the room's kernel: turns the kernel's messages into merged outputs,
 * live broadcasts and coalesced document writes, and ends exactly once with `execution_done`.
 */
export class Execution {
  readonly executionId: string;
  readonly cellId: string;
  readonly done: Promise<void>;
  msgId: string | undefined;

  private readonly outputs: CellOutputs;
  /** Outputs the daemon adds after the kernel's (the error of a died kernel). */
  private readonly trailing: nbformat.IOutput[] = [];
  /** Document manifests by output object: an output that did not change is not re-encoded. */
  private readonly storedManifests = new WeakMap<nbformat.IOutput, string>();
  /** Stream outputs sealed at the end, by stream. */
  private readonly sealedStreams = new WeakMap<StreamOutput, string>();
  /** Encoded size of each current non-stream output; the live interval grows with their sum. */
  private readonly outputSizes = new Map<number, number>();
  private chain: Promise<void> = Promise.resolve();
  private executionCount: number | null = null;
  private started = false;
  private reply: JupyterMessage | undefined;
  private sawIdle = false;
  private finished = false;
  private writeTimer: NodeJS.Timeout | undefined;
  /** What the last write put into the document, and the daemon's change count right after it. */
  private lastWrite: { outputs: string[]; count: number | null; ownChanges: number } | undefined;
  /** Outputs changed since the last live broadcast, by index. */
  private readonly pendingLive = new Map<number, OutputEntry>();
  /** Each stream output as clients read it, by stream. */
  private readonly streamSources = new WeakMap<StreamOutput, ExecutionStream>();
  private liveTimer: NodeJS.Timeout | undefined;
  private resolveDone!: () => void;

  constructor(
    entry: QueueEntry,
    private readonly host: ExecutionHost,
    private readonly options: ExecutionStartOptions = {},
  ) {
    this.executionId = entry.execution_id;
    this.cellId = entry.cell_id;
    this.outputs = new CellOutputs({
      onDisplayIdAdded: (displayId, index) => host.noteDisplay(displayId, this.cellId, index),
      createStreamStore: host.createStreamStore ? () => host.createStreamStore!() : undefined,
      maxStreamBytes: host.maxOutputBytes,
    });
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** True once its code went to a kernel. */
  get isStarted(): boolean {
    return this.msgId !== undefined;
  }

  /** Sends the cell's source to the kernel; the cell's old outputs go with the first write. */
  start(kernel: KernelHandle, source: string): void {
    if (this.finished) return;
    this.host.forgetDisplays(this.cellId);
    const { msgId, reply } = kernel.executeRequest(source, { allowStdin: this.options.allowStdin ?? true, storeHistory: true, stopOnError: false });
    this.msgId = msgId;
    // Clearing the document is not on the kernel's critical path: a cell that finishes within
    // the first write interval makes one document change in all.
    this.scheduleWrite();
    reply.then(
      (message) => {
        this.reply = message;
        const count = message.content.execution_count;
        if (typeof count === "number") this.executionCount = count;
        // After the outputs already handed over: a reply may come after the idle status (over
        // a gateway WebSocket shell and iopub are forwarded independently).
        this.chain = this.chain.then(() => this.guarded("finishing", () => this.maybeFinish()));
      },
      (error: unknown) => {
        const failure = error instanceof RuntimedError ? error : new RuntimedError("KERNEL_DIED", String(error));
        this.fail(failure.code, failure.message);
      },
    );
  }

  /** Handles an iopub message whose parent is this execution's request. */
  handleIopub(message: JupyterMessage): void {
    if (this.finished) return;
    const msgType = message.header.msg_type;
    const content = message.content;
    if (msgType === "status") {
      if (content.execution_state === "idle") {
        this.sawIdle = true;
        this.chain = this.chain.then(() => this.guarded("finishing", () => this.maybeFinish()));
      }
      return;
    }
    if (msgType === "execute_input") {
      if (typeof content.execution_count === "number") this.executionCount = content.execution_count;
      this.announceStart();
      return;
    }
    if (msgType === "update_display_data") {
      const displayId = (content.transient as { display_id?: unknown } | undefined)?.display_id;
      if (typeof displayId === "string") this.host.updateDisplayElsewhere(displayId, content, this.cellId);
    }
    this.chain = this.chain.then(async () => {
      if (this.finished) return;
      try {
        this.publish(await this.outputs.apply(msgType, content));
      } catch (error) {
        this.failInternally(`applying a ${msgType} message`, error);
      }
    });
  }

  /** Applies an update_display_data that came from another cell's execution. */
  updateDisplay(displayId: string, data: Record<string, unknown>, metadata: Record<string, unknown>): void {
    if (this.finished) return;
    this.publish(this.outputs.updateDisplay(displayId, data, metadata));
  }

  /**
   * Marks an execution that has not reached its kernel as cancelled: it ends now and never runs,
   * even if the kernel it waits for starts later. False when it already ended or its code
   * already went to a kernel.
   */
  cancelBeforeStart(): boolean {
    if (this.finished || this.isStarted) return false;
    this.fail("CANCELLED", "Cancelled before it ran");
    return true;
  }

  /** Ends the execution unsuccessfully (kernel death, cancellation before start). */
  fail(code: RuntimedErrorCode, message: string): void {
    if (this.finished) return;
    if (this.started || this.msgId !== undefined) {
      this.flushLive();
      const error: nbformat.IError = { output_type: "error", ename: code, evalue: message, traceback: [message] };
      this.trailing.push(error);
      this.host.broadcast({
        event: "output",
        execution_id: this.executionId,
        cell_id: this.cellId,
        index: this.outputs.entries.length + this.trailing.length - 1,
        output: encodeManifest(toManifest(error)),
      });
    }
    this.finish(false, { code, message });
  }

  /**
   * Brings a client that joins while this cell runs up to date: its outputs as they are now,
   * streams restated whole (later stream frames continue from there).
   */
  restateTo(peer: unknown): void {
    if (this.finished || !this.started) return;
    this.flushLive();
    this.outputs.entries.forEach((entry, index) => {
      if (!(entry instanceof StreamOutput)) {
        const output = this.liveManifest(index, entry);
        this.host.broadcast({ event: "output", execution_id: this.executionId, cell_id: this.cellId, index, output }, peer);
        return;
      }
      this.host.restateStream(this.streamSource(index, entry), peer);
    });
  }

  private streamSource(index: number, stream: StreamOutput): ExecutionStream {
    let source = this.streamSources.get(stream);
    if (!source) this.streamSources.set(stream, (source = new ExecutionStream(this.executionId, this.cellId, index, stream)));
    return source;
  }

  /** Sends stream text live, split where it is larger than a frame. */
  private sendStream(source: ExecutionStream, offset: number, appended: Uint8Array, tail: string): void {
    for (let start = 0; ; ) {
      const end = utf8Boundary(appended, Math.min(appended.byteLength, start + STREAM_FRAME_BYTES));
      const last = end >= appended.byteLength;
      this.host.broadcastStream(source, offset + start, appended.subarray(start, end), last ? tail : "");
      if (last) return;
      start = end;
    }
  }

  private announceStart(): void {
    if (this.started) return;
    this.started = true;
    this.host.broadcast({
      event: "execution_started",
      execution_id: this.executionId,
      cell_id: this.cellId,
      execution_count: this.executionCount,
    });
  }

  private publish(changes: OutputChange[]): void {
    if (changes.length === 0) return;
    this.announceStart();
    for (const change of changes) {
      if (change.type === "cleared") {
        this.pendingLive.clear();
        this.outputSizes.clear();
        this.host.forgetDisplays(this.cellId);
        this.host.broadcast({ event: "clear_outputs", execution_id: this.executionId, cell_id: this.cellId });
        continue;
      }
      this.pendingLive.set(change.index, change.type === "stream" ? change.stream : change.output);
    }
    // The first change goes out at once; a burst after it is merged into one event per output
    // per interval, so a chatty cell costs a bounded number of broadcasts.
    if (!this.liveTimer || this.pendingStreamBytes() > MAX_PENDING_LIVE_BYTES) this.flushLive();
    this.scheduleWrite();
  }

  /** Sends the outputs changed since the last live broadcast, and opens a new interval. */
  private flushLive(): void {
    if (this.liveTimer) clearTimeout(this.liveTimer);
    this.liveTimer = undefined;
    // Nothing waiting: no new interval either, so the next output goes out at once.
    if (this.pendingLive.size === 0) return;
    for (const [index, entry] of this.pendingLive) {
      if (entry instanceof StreamOutput) {
        const source = this.streamSource(index, entry);
        const delta = entry.takeDelta(source.sentTail);
        if (!delta) continue;
        source.sentTail = delta.tail;
        this.sendStream(source, delta.offset, delta.appended, delta.tail);
        continue;
      }
      const output = this.liveManifest(index, entry);
      this.host.broadcast({ event: "output", execution_id: this.executionId, cell_id: this.cellId, index, output });
    }
    this.pendingLive.clear();
    if (this.finished) return;
    const interval = Math.min(MAX_LIVE_INTERVAL_MS, LIVE_INTERVAL_MS + this.displayBytes() / LIVE_BYTES_PER_EXTRA_MS);
    this.liveTimer = setTimeout(() => {
      this.liveTimer = undefined;
      this.guarded("sending live outputs", () => this.flushLive());
    }, interval);
  }

  /** An output as live events carry it: inline, or (a huge one) as blob references, which the document stores too. */
  private liveManifest(index: number, output: nbformat.IOutput): string {
    const inline = encodeManifest(toManifest(output));
    this.outputSizes.set(index, inline.length);
    return inline.length > LIVE_INLINE_MAX_BYTES && this.host.blobs ? this.storedManifest(output) : inline;
  }

  private maybeFinish(): void {
    if (this.finished || !this.reply || !this.sawIdle) return;
    const ok = this.reply.content.status === "ok";
    this.announceStart();
    this.finish(ok, null);
  }

  private finish(success: boolean, error: { code: RuntimedErrorCode; message: string } | null): void {
    if (this.finished) return;
    try {
      this.flushLive();
    } catch (failure) {
      this.host.warn("could not send the last live outputs", { cell_id: this.cellId, error: String(failure) });
    }
    this.finished = true;
    if (this.liveTimer) clearTimeout(this.liveTimer);
    this.liveTimer = undefined;
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    this.outputs.dispose();
    let stored: string[] | undefined;
    try {
      // One that never reached a kernel (cancelled, or its kernel never came) leaves the cell
      // as its last run left it: its outputs and execution count are still true.
      if (this.isStarted) stored = this.storedOutputs(true);
    } catch (failure) {
      // The outputs went out live; the document keeps what it had. Said in the log and the result.
      this.host.warn("could not store the outputs", { cell_id: this.cellId, error: String(failure) });
      const code = failure instanceof RuntimedError ? failure.code : "INTERNAL";
      if (success) error = { code, message: `The outputs could not be stored: ${(failure as Error).message}` };
      success = false;
    }
    this.host.broadcast({
      event: "execution_done",
      execution_id: this.executionId,
      cell_id: this.cellId,
      success,
      execution_count: this.executionCount,
      error,
    });
    this.resolveDone();
    // The result does not wait for Automerge: the document write (and its sync to every client)
    // follows at once, off the path from the kernel's reply to the caller. Sessions show a
    // finished execution's outputs meanwhile (see ResultOverlay), so reads stay consistent.
    if (stored) {
      const outputs = stored;
      this.host.writeAfterResult(this.cellId, () => this.writeOutputs(outputs));
    }
  }

  /** Runs `work`; a throw ends this execution with an error instead of reaching the event loop. */
  private guarded(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.failInternally(what, error);
    }
  }

  private failInternally(what: string, error: unknown): void {
    this.host.warn(`execution failed while ${what}`, { cell_id: this.cellId, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    this.fail("INTERNAL", `The daemon failed while ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  private scheduleWrite(): void {
    if (this.writeTimer || this.finished) return;
    const interval = Math.min(MAX_WRITE_INTERVAL_MS, MIN_WRITE_INTERVAL_MS + this.outputBytes() / BYTES_PER_EXTRA_MS);
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      this.guarded("writing outputs into the document", () => this.writeDocument(false));
    }, interval);
  }

  private pendingStreamBytes(): number {
    let bytes = 0;
    for (const entry of this.pendingLive.values()) if (entry instanceof StreamOutput) bytes += entry.pendingBytes;
    return bytes;
  }

  /** Bytes of every output (streams by what they hold). */
  private outputBytes(): number {
    let bytes = this.displayBytes();
    for (const entry of this.outputs.entries) if (entry instanceof StreamOutput) bytes += entry.bytes + entry.tail.length;
    return bytes;
  }

  private displayBytes(): number {
    let bytes = 0;
    for (const size of this.outputSizes.values()) bytes += size;
    return bytes;
  }

  private storedManifest(output: nbformat.IOutput): string {
    let encoded = this.storedManifests.get(output);
    if (encoded === undefined) {
      encoded = encodeManifest(toManifest(output, this.host.blobs));
      this.storedManifests.set(output, encoded);
    }
    return encoded;
  }

  /** A stream as the document stores it: a preview while the cell runs, all of it at the end. */
  private storedStream(stream: StreamOutput, final: boolean): string {
    if (!final) return encodeManifest({ output_type: "stream", name: stream.name, text: { inline: stream.preview() } });
    let encoded = this.sealedStreams.get(stream);
    if (encoded === undefined) {
      encoded = encodeManifest({ output_type: "stream", name: stream.name, text: stream.seal() });
      this.sealedStreams.set(stream, encoded);
    }
    return encoded;
  }

  /** The outputs as the document stores them (streams: a preview while running, sealed at the end). */
  private storedOutputs(final: boolean): string[] {
    return [
      ...this.outputs.entries.map((entry) => (entry instanceof StreamOutput ? this.storedStream(entry, final) : this.storedManifest(entry))),
      ...this.trailing.map((output) => this.storedManifest(output)),
    ];
  }

  private writeDocument(final: boolean): void {
    this.writeOutputs(this.storedOutputs(final));
  }

  private writeOutputs(outputs: string[]): void {
    const document = this.host.document;
    const index = findCellIndex(document.doc, this.cellId);
    if (index < 0) return; // deleted while running: nothing to write into
    const count = this.executionCount;
    // Reading the document inside a change costs more than the change: skip a write that would
    // change nothing (a final write after a coalesced one that had it all).
    const last = this.lastWrite;
    if (last && last.ownChanges === document.ownChangeCount && last.count === count && sameStrings(last.outputs, outputs)) return;
    document.change(`outputs ${this.cellId}`, (draft) => {
      setCellOutputs(draft, index, outputs);
      if (draft.cells[index]!.execution_count !== count) setExecutionCount(draft, index, count);
    });
    this.lastWrite = { outputs, count, ownChanges: document.ownChangeCount };
  }
}

/** One stream output of an execution as clients read it, live or catching up (see PeerOutbox). */
class ExecutionStream implements StreamSource {
  readonly key: string;
  /** The tail sent with the last live piece. */
  sentTail: string | undefined;

  constructor(
    private readonly executionId: string,
    private readonly cellId: string,
    private readonly index: number,
    private readonly stream: StreamOutput,
  ) {
    this.key = `${executionId}:${index}`;
  }

  get sentBytes(): number {
    return this.stream.deltaBytes;
  }

  get alive(): boolean {
    return !this.stream.isDiscarded;
  }

  read(from: number, to: number): Uint8Array {
    return this.stream.read(from, to);
  }

  encode(offset: number, appended: Uint8Array, tail: string): Uint8Array {
    return encodeStreamAppend({ execution_id: this.executionId, cell_id: this.cellId, index: this.index, name: this.stream.name, offset, appended, tail });
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** The largest index ≤ `end` that does not split a UTF-8 character. */
function utf8Boundary(bytes: Uint8Array, end: number): number {
  let at = end;
  while (at > 0 && at < bytes.byteLength && (bytes[at]! & 0xc0) === 0x80) at--;
  return at;
}
