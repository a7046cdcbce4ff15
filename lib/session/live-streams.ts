import type { Broadcast } from "../protocol/messages";
import { StreamState } from "./stream-state";
import type { RoomEvent } from "./types";

type StreamAppendMessage = Extract<Broadcast, { event: "stream_append" }>;

/**
 * The stream outputs of the room's running cells, rebuilt from stream-append frames so that
 * clients see every stream as a whole `output` event (with its delta) while only the delta
 * crossed the wire. A stream is forgotten when its execution ends or its outputs are cleared.
 */
export class LiveStreams {
  private readonly streams = new Map<string, StreamState>();

  /** The output event a stream-append means. */
  apply(message: StreamAppendMessage): Extract<RoomEvent, { type: "output" }> {
    const key = `${message.execution_id}:${message.index}`;
    let stream = this.streams.get(key);
    if (!stream || stream.name !== message.name) this.streams.set(key, (stream = new StreamState(message.name)));
    const update = stream.apply(message.offset, message.appended, message.appended_bytes, message.tail);
    const event: Extract<RoomEvent, { type: "output" }> = {
      type: "output",
      executionId: message.execution_id,
      cellId: message.cell_id,
      index: message.index,
      output: update.output,
      delta: update.delta,
    };
    if (!update.complete) event.incomplete = true;
    return event;
  }

  /** Drops what belongs to an execution (it ended, or its outputs were cleared). */
  forget(executionId: string): void {
    for (const key of [...this.streams.keys()]) if (key.startsWith(`${executionId}:`)) this.streams.delete(key);
  }

  /** Drops everything (the connection is gone: the daemon restates running streams on the next). */
  clear(): void {
    this.streams.clear();
  }
}
