import type * as nbformat from "@jupyterlab/nbformat";
import { StreamTerminal } from "./stream-terminal";

/**
 * One change to a cell's output list, as a UI applies it: after `set`, the output at `index`
 * is `output` (the index is at most the current length, so a `set` may append); after
 * `cleared`, the list is empty.
 */
export type OutputChange = { type: "set"; index: number; output: nbformat.IOutput } | { type: "cleared" };

/** Options of {@link CellOutputs}. */
export interface CellOutputsOptions {
  /** Called when an output with a `transient.display_id` is added, with its index. */
  onDisplayIdAdded?(displayId: string, index: number): void;
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
  private readonly list: nbformat.IOutput[] = [];
  private readonly indexesByDisplayId = new Map<string, number[]>();
  /** Terminal of the last output, while it is a stream. */
  private stream: { name: nbformat.StreamType; terminal: StreamTerminal } | undefined;
  private clearBeforeNextOutput = false;
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private disposed = false;

  constructor(private readonly options: CellOutputsOptions = {}) {}

  /** The current outputs, plain nbformat (strings, never multiline arrays). */
  get outputs(): readonly nbformat.IOutput[] {
    return this.list;
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
      if (!current || (current.output_type !== "display_data" && current.output_type !== "execute_result")) continue;
      const output = { ...current, data: data as nbformat.IMimeBundle, metadata: metadata as nbformat.OutputMetadata };
      this.list[index] = output;
      changes.push({ type: "set", index, output });
    }
    return changes;
  }

  /** Frees the stream terminal; later messages are ignored. */
  dispose(): void {
    this.disposed = true;
    this.stream?.terminal.dispose();
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
    const last = this.list.length - 1;
    let index: number;
    let terminal: StreamTerminal;
    if (this.stream && this.stream.name === name && last >= 0) {
      index = last;
      terminal = this.stream.terminal;
    } else {
      this.stream?.terminal.dispose();
      terminal = new StreamTerminal();
      this.stream = { name, terminal };
      index = this.list.length;
    }
    const set = (streamText: string): OutputChange[] => {
      const output: nbformat.IStream = { output_type: "stream", name, text: streamText };
      this.list[index] = output;
      changes.push({ type: "set", index, output });
      return changes;
    };
    const appended = terminal.tryAppend(text);
    if (appended !== undefined) return set(appended);
    // Reserve the slot now so outputs added while the terminal works come after it.
    if (index === this.list.length) this.list.push({ output_type: "stream", name, text: terminal.text });
    return terminal.write(text).then(set);
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
    this.stream?.terminal.dispose();
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
    this.stream?.terminal.dispose();
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
