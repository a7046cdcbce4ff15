import type * as nbformat from "@jupyterlab/nbformat";
import type { StreamDelta } from "./types";

/** What a client knows of one stream output fed by stream-append events. */
export interface StreamStateUpdate {
  /** The stream output as it stands now. */
  output: nbformat.IStream;
  /** How it changed: enough to update a terminal without comparing whole texts. */
  delta: StreamDelta;
  /** False when the event did not continue what this client had (a gap): the text may lack a piece. */
  complete: boolean;
}

/**
 * One stream output on the client side, rebuilt from stream-append events: finished text that
 * only grows (by reference, never re-copied) and an unfinished tail that each event replaces.
 */
export class StreamState {
  private finished = "";
  private finishedBytes = 0;
  private tail = "";
  private lacksText = false;

  constructor(readonly name: nbformat.StreamType) {}

  /** True once an event did not continue the text held (see {@link StreamStateUpdate.complete}). */
  get hasGap(): boolean {
    return this.lacksText;
  }

  /** Applies one stream-append event; `appendedBytes` is its UTF-8 length. */
  apply(offset: number, appended: string, appendedBytes: number, tail: string): StreamStateUpdate {
    const reset = offset === 0;
    let complete = true;
    if (reset) {
      this.finished = appended;
      this.finishedBytes = appendedBytes;
      this.lacksText = false;
    } else {
      // The daemon sends offsets of what it sent before; a mismatch means frames went missing.
      if (offset !== this.finishedBytes) complete = false;
      this.finished += appended;
      this.finishedBytes = offset + appendedBytes;
    }
    if (!complete) this.lacksText = true;
    this.tail = tail;
    return {
      output: { output_type: "stream", name: this.name, text: this.finished + tail },
      delta: { appended, tail, reset },
      complete: !this.lacksText,
    };
  }
}
