import type * as nbformat from "@jupyterlab/nbformat";
import type { KernelHandle } from "../kernel/kernel-handle";
import type { JupyterMessage } from "../kernel/wire";
import { findCellIndex, setCellOutputs, setExecutionCount } from "../notebook/cells";
import { CellOutputs, type OutputChange } from "../outputs/cell-outputs";
import { encodeManifest, toManifest, type BlobSink } from "../outputs/manifest";
import { RuntimedError, type RuntimedErrorCode } from "../protocol/errors";
import type { Broadcast, QueueEntry } from "../protocol/messages";
import type { RoomDocument } from "./room-document";

/** What an execution needs from its room. */
export interface ExecutionHost {
  readonly document: RoomDocument;
  /** Where large payloads go when outputs are written into the document. */
  readonly blobs?: BlobSink;
  broadcast(message: Broadcast): void;
  /** A display with this id now shows at this output index of this cell (for update_display_data). */
  noteDisplay(displayId: string, cellId: string, index: number): void;
  /** The cell's outputs were cleared: its displays are gone. */
  forgetDisplays(cellId: string): void;
  /** Applies update_display_data to every other cell showing the display. */
  updateDisplayElsewhere(displayId: string, content: Record<string, unknown>, exceptCellId: string): void;
}

// Document writes while a cell runs: often enough for late joiners to see progress, rarely
// enough that a chatty cell's history stays bounded (the interval grows with the output size).
const MIN_WRITE_INTERVAL_MS = 50;
const MAX_WRITE_INTERVAL_MS = 2000;
const BYTES_PER_EXTRA_MS = 512;
// A young execution writes its first outputs at once instead: the kernel is still busy then (a
// `1+1` reports idle ~2.5 ms after its result), so the write is off the critical path and the
// final write, when the kernel says it is done, usually has nothing left to change.
const EAGER_WRITES = 2;
// Large outputs wait for the coalesced write: writing them early would store (and hash) partial
// copies of big payloads in the blob store.
const EAGER_WRITE_MAX_BYTES = 64 * 1024;
// Live output events: at most one per output per interval while a cell is chatty.
const LIVE_INTERVAL_MS = 10;
const MAX_LIVE_INTERVAL_MS = 1000;
const LIVE_BYTES_PER_EXTRA_MS = 64 * 1024;

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
  /** Encoded size of each current output, and their sum: the write interval grows with it. */
  private outputSizes: number[] = [];
  private outputBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private executionCount: number | null = null;
  private started = false;
  private reply: JupyterMessage | undefined;
  private sawIdle = false;
  private finished = false;
  private writeTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** What the last write put into the document, and the daemon's change count right after it. */
  private lastWrite: { outputs: string[]; count: number | null; ownChanges: number } | undefined;
  private eagerWrites = 0;
  /** Outputs changed since the last live broadcast, by index. */
  private readonly pendingLive = new Map<number, nbformat.IOutput>();
  private liveTimer: NodeJS.Timeout | undefined;
  private resolveDone!: () => void;

  constructor(
    entry: QueueEntry,
    private readonly host: ExecutionHost,
  ) {
    this.executionId = entry.execution_id;
    this.cellId = entry.cell_id;
    this.outputs = new CellOutputs({ onDisplayIdAdded: (displayId, index) => host.noteDisplay(displayId, this.cellId, index) });
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Sends the cell's source to the kernel; the cell's old outputs go with the first write. */
  start(kernel: KernelHandle, source: string): void {
    this.host.forgetDisplays(this.cellId);
    const { msgId, reply } = kernel.executeRequest(source, { allowStdin: true, storeHistory: true, stopOnError: false });
    this.msgId = msgId;
    this.startedAt = Date.now();
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
        this.chain = this.chain.then(() => this.maybeFinish());
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
        this.chain = this.chain.then(() => this.maybeFinish());
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
      const changes = await this.outputs.apply(msgType, content);
      this.publish(changes);
    });
  }

  /** Applies an update_display_data that came from another cell's execution. */
  updateDisplay(displayId: string, data: Record<string, unknown>, metadata: Record<string, unknown>): void {
    if (this.finished) return;
    this.publish(this.outputs.updateDisplay(displayId, data, metadata));
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
        index: this.outputs.outputs.length + this.trailing.length - 1,
        output: encodeManifest(toManifest(error)),
      });
    }
    this.finish(false, { code, message });
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
        this.host.forgetDisplays(this.cellId);
        this.outputSizes = [];
        this.outputBytes = 0;
        this.host.broadcast({ event: "clear_outputs", execution_id: this.executionId, cell_id: this.cellId });
        continue;
      }
      this.pendingLive.set(change.index, change.output);
    }
    // The first change goes out at once; a burst after it is merged into one event per output
    // per interval, so a chatty cell costs a bounded number of broadcasts.
    if (!this.liveTimer) this.flushLive();
    const young = Date.now() - this.startedAt < MIN_WRITE_INTERVAL_MS;
    if (this.eagerWrites < EAGER_WRITES && young && this.outputBytes < EAGER_WRITE_MAX_BYTES) {
      this.eagerWrites += 1;
      if (this.writeTimer) clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
      this.writeDocument();
    } else {
      this.scheduleWrite();
    }
  }

  /** Broadcasts the outputs changed since the last broadcast, and opens a new interval. */
  private flushLive(): void {
    if (this.pendingLive.size === 0) return;
    for (const [index, output] of this.pendingLive) {
      // Live events carry payloads inline: they are transient, and blobs are for the document.
      const encoded = encodeManifest(toManifest(output));
      this.outputBytes += encoded.length - (this.outputSizes[index] ?? 0);
      this.outputSizes[index] = encoded.length;
      this.host.broadcast({ event: "output", execution_id: this.executionId, cell_id: this.cellId, index, output: encoded });
    }
    this.pendingLive.clear();
    if (this.finished) return;
    // Each live event re-sends whole outputs: for a huge output the interval grows with its
    // size, so the encoding work stays proportional to the output instead of its square.
    const interval = Math.min(MAX_LIVE_INTERVAL_MS, LIVE_INTERVAL_MS + this.outputBytes / LIVE_BYTES_PER_EXTRA_MS);
    this.liveTimer = setTimeout(() => {
      this.liveTimer = undefined;
      this.flushLive();
    }, interval);
  }

  private maybeFinish(): void {
    if (this.finished || !this.reply || !this.sawIdle) return;
    const ok = this.reply.content.status === "ok";
    this.announceStart();
    this.finish(ok, null);
  }

  private finish(success: boolean, error: { code: RuntimedErrorCode; message: string } | null): void {
    if (this.finished) return;
    this.flushLive();
    this.finished = true;
    if (this.liveTimer) clearTimeout(this.liveTimer);
    this.liveTimer = undefined;
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    this.writeDocument();
    // The document change reaches every client before the event that says the cell is done.
    this.host.document.flushSync();
    this.outputs.dispose();
    this.host.broadcast({
      event: "execution_done",
      execution_id: this.executionId,
      cell_id: this.cellId,
      success,
      execution_count: this.executionCount,
      error,
    });
    this.resolveDone();
  }

  private scheduleWrite(): void {
    if (this.writeTimer || this.finished) return;
    const interval = Math.min(MAX_WRITE_INTERVAL_MS, MIN_WRITE_INTERVAL_MS + this.outputBytes / BYTES_PER_EXTRA_MS);
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      this.writeDocument();
    }, interval);
  }

  private storedManifest(output: nbformat.IOutput): string {
    let encoded = this.storedManifests.get(output);
    if (encoded === undefined) {
      encoded = encodeManifest(toManifest(output, this.host.blobs));
      this.storedManifests.set(output, encoded);
    }
    return encoded;
  }

  private writeDocument(): void {
    const document = this.host.document;
    const index = findCellIndex(document.doc, this.cellId);
    if (index < 0) return; // deleted while running: nothing to write into
    const outputs = [...this.outputs.outputs, ...this.trailing].map((output) => this.storedManifest(output));
    const count = this.executionCount;
    // Reading the document inside a change costs more than the change: skip a write that would
    // change nothing (the usual final write of a short cell, whose outputs went in eagerly).
    const last = this.lastWrite;
    if (last && last.ownChanges === document.ownChangeCount && last.count === count && sameStrings(last.outputs, outputs)) return;
    document.change(`outputs ${this.cellId}`, (draft) => {
      setCellOutputs(draft, index, outputs);
      if (draft.cells[index]!.execution_count !== count) setExecutionCount(draft, index, count);
    });
    this.lastWrite = { outputs, count, ownChanges: document.ownChangeCount };
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
