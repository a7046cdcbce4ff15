import type * as nbformat from "@jupyterlab/nbformat";
import { StreamOutput, type StreamStore } from "./stream-output";

/**
 * One change to a cell's output list, as a UI applies it: after `set`, the output at `index`
 * is `output` (the index is at most the current length, so a `set` may append); after `stream`,
 * the stream output at `index` has grown or changed (read its delta); after `cleared`, the list
 * is empty.
 */
export type OutputChange =
  | { type: "set"; index: number; output: nbformat.IOutput }
  | { type: "stream"; index: number; stream: StreamOutput }
  | { type: "cleared" };

/** An entry of a cell's output list: a finished nbformat output, or a stream that may still grow. */
export type OutputEntry = nbformat.IOutput | StreamOutput;

/** Options of {@link CellOutputs}. */
export interface CellOutputsOptions {
  /** Called when an output with a `transient.display_id` is added, with its index. */
  onDisplayIdAdded?(displayId: string, index: number): void;
  /** Where each new stream output keeps its finished lines (default: memory). */
  createStreamStore?(): StreamStore;
  /** Largest stream output; beyond it the output ends with a notice (default 1 GiB). */
  maxStreamBytes?: number;
}

/**
 * The output list of one cell during an execution, built from Jupyter iopub messages with
 * notebook semantics:
 *
 * ```ts
 * const cell = new CellOutputs();
 * await cell.apply("stream", { name: "stdout", text: "a\n" });
 * await cell.apply("stream", { name: "stdout", text: "b\n" }); // one output, "a\nb\n"
 * ```
 *
 * - `stream` chunks merge into the last output when it is a stream of the same name, with
 *   terminal semantics (see {@link StreamTerminal}). Like runtimed and JupyterLab, only the
 *   last output merges: "out1, err1, out2" gives three outputs, and the third starts a fresh
 *   terminal (a `\r` in it cannot reach text of the first).
 * - `display_data`, `execute_result` and `error` add an output; a `transient.display_id` is
 *   kept out of the stored output but remembered for {@link updateDisplay}.
 * - `clear_output` clears now, or with `wait: true` just before the next output arrives.
 * - `update_display_data` replaces data and metadata of this cell's outputs with that id.
 *
 * Messages are applied in the order `apply` is called, whether or not callers await.
 */
export class CellOutputs {
  private readonly list: OutputEntry[] = [];
  private readonly indexesByDisplayId = new Map<string, number[]>();
  /** The last output, while it is a stream that can still grow. */
  private stream: StreamOutput | undefined;
  private clearBeforeNextOutput = false;
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private disposed = false;

  constructor(private readonly options: CellOutputsOptions = {}) {}

  /** The current outputs, streams still growing among them. */
  get entries(): readonly OutputEntry[] {
    return this.list;
  }

  /** The current outputs as plain nbformat (strings, never multiline arrays); reads streams back in full. */
  get outputs(): nbformat.IOutput[] {
    return this.list.map((entry) => (entry instanceof StreamOutput ? entry.toOutput() : entry));
  }

  /** Applies one iopub message; resolves with the changes it made (none for other types). */
  apply(msgType: string, content: unknown): Promise<OutputChange[]> {
    if (this.queued === 0) {
      const changes = this.applyNow(msgType, content);
      if (Array.isArray(changes)) return Promise.resolve(changes);
      return this.enqueue(() => changes);
    }
    return this.enqueue(() => this.applyNow(msgType, content));
  }

  /**
   * Replaces data and metadata of every output of this cell whose `transient.display_id` was
   * `displayId`. Applied at once, ahead of messages still queued in `apply`.
   */
  updateDisplay(displayId: string, data: object, metadata: object): OutputChange[] {
    const changes: OutputChange[] = [];
    for (const index of this.indexesByDisplayId.get(displayId) ?? []) {
      const current = this.list[index];
      if (!current || current instanceof StreamOutput) continue;
      if (current.output_type !== "display_data" && current.output_type !== "execute_result") continue;
      const output = { ...current, data: data as nbformat.IMimeBundle, metadata: metadata as nbformat.OutputMetadata };
      this.list[index] = output;
      changes.push({ type: "set", index, output });
    }
    return changes;
  }

  /** Ends the last stream's terminal; later messages are ignored. The outputs stay. */
  dispose(): void {
    this.disposed = true;
    this.stream?.close();
    this.stream = undefined;
  }

  private enqueue(run: () => OutputChange[] | Promise<OutputChange[]>): Promise<OutputChange[]> {
    this.queued++;
    const result = this.queue.then(run).finally(() => this.queued--);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Synchronous unless a stream chunk has to go through the terminal. */
  private applyNow(msgType: string, content: unknown): OutputChange[] | Promise<OutputChange[]> {
    if (this.disposed || !isObject(content)) return [];
    switch (msgType) {
      case "stream":
        return this.applyStream(content);
      case "display_data":
      case "execute_result":
        return this.applyDisplay(msgType, content);
      case "error":
        return this.applyError(content);
      case "clear_output":
        return this.applyClear(content);
      case "update_display_data": {
        const displayId = transientDisplayId(content);
        if (displayId === undefined || !isObject(content.data)) return [];
        return this.updateDisplay(displayId, content.data, isObject(content.metadata) ? content.metadata : {});
      }
      default:
        return [];
    }
  }

  private applyStream(content: Record<string, unknown>): OutputChange[] | Promise<OutputChange[]> {
    const { name, text } = content;
    if ((name !== "stdout" && name !== "stderr") || typeof text !== "string") return [];
    const changes = this.clearIfWaiting();
    let stream = this.stream;
    let index = this.list.length - 1;
    if (!stream || stream.name !== name || this.list[index] !== stream) {
      stream?.close();
      stream = new StreamOutput(name, { store: this.options.createStreamStore?.(), maxBytes: this.options.maxStreamBytes });
      this.stream = stream;
      // The slot is taken now, so outputs added while the terminal works come after it.
      index = this.list.push(stream) - 1;
    }
    const changed: OutputChange = { type: "stream", index, stream };
    const pending = stream.write(text);
    if (pending === undefined) {
      changes.push(changed);
      return changes;
    }
    return pending.then(() => {
      changes.push(changed);
      return changes;
    });
  }

  private applyDisplay(outputType: "display_data" | "execute_result", content: Record<string, unknown>): OutputChange[] {
    if (!isObject(content.data)) return [];
    const data = content.data as nbformat.IMimeBundle;
    const metadata = (isObject(content.metadata) ? content.metadata : {}) as nbformat.OutputMetadata;
    const output: nbformat.IOutput =
      outputType === "execute_result"
        ? {
            output_type: "execute_result",
            execution_count: typeof content.execution_count === "number" ? content.execution_count : null,
            data,
            metadata,
          }
        : { output_type: "display_data", data, metadata };
    const changes = this.add(output);
    const displayId = transientDisplayId(content);
    if (displayId !== undefined) {
      const index = this.list.length - 1;
      const indexes = this.indexesByDisplayId.get(displayId);
      if (indexes) indexes.push(index);
      else this.indexesByDisplayId.set(displayId, [index]);
      this.options.onDisplayIdAdded?.(displayId, index);
    }
    return changes;
  }

  private applyError(content: Record<string, unknown>): OutputChange[] {
    const { ename, evalue, traceback } = content;
    if (typeof ename !== "string" || typeof evalue !== "string") return [];
    const lines = Array.isArray(traceback) ? traceback.filter((line): line is string => typeof line === "string") : [];
    return this.add({ output_type: "error", ename, evalue, traceback: lines });
  }

  private applyClear(content: Record<string, unknown>): OutputChange[] {
    if (content.wait === true) {
      this.clearBeforeNextOutput = true;
      return [];
    }
    this.clearBeforeNextOutput = false;
    return this.clear();
  }

  /** Appends a non-stream output; the stream before it can no longer grow. */
  private add(output: nbformat.IOutput): OutputChange[] {
    const changes = this.clearIfWaiting();
    this.stream?.close();
    this.stream = undefined;
    const index = this.list.length;
    this.list.push(output);
    changes.push({ type: "set", index, output });
    return changes;
  }

  private clearIfWaiting(): OutputChange[] {
    if (!this.clearBeforeNextOutput) return [];
    this.clearBeforeNextOutput = false;
    return this.clear();
  }

  private clear(): OutputChange[] {
    for (const entry of this.list) if (entry instanceof StreamOutput) entry.discard();
    this.stream = undefined;
    this.list.length = 0;
    this.indexesByDisplayId.clear();
    return [{ type: "cleared" }];
  }
}

function transientDisplayId(content: Record<string, unknown>): string | undefined {
  const transient = content.transient;
  if (!isObject(transient)) return undefined;
  return typeof transient.display_id === "string" ? transient.display_id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
