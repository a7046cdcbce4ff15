import type { Broadcast } from "../protocol/messages";
import type { LiveStreams } from "./live-streams";
import { toQueueEntry, type Output, type RoomEvent } from "./types";

/**
 * A wire broadcast in TypeScript's casing, with its output decoded by `decodeOutput`; a
 * stream-append becomes the `output` event of the stream it grows (kept by `streams`).
 */
export function toRoomEvent(message: Broadcast, decodeOutput: (encoded: string) => Output, streams: LiveStreams): RoomEvent {
  switch (message.event) {
    case "kernel_status":
      return { type: "kernel_status", status: message.status, kernelType: message.kernel_type, envSource: message.env_source };
    case "execution_queued":
      return { type: "execution_queued", executionId: message.execution_id, cellId: message.cell_id };
    case "execution_started":
      return { type: "execution_started", executionId: message.execution_id, cellId: message.cell_id, executionCount: message.execution_count };
    case "output":
      return {
        type: "output",
        executionId: message.execution_id,
        cellId: message.cell_id,
        index: message.index,
        output: decodeOutput(message.output),
      };
    case "clear_outputs":
      return { type: "clear_outputs", executionId: message.execution_id, cellId: message.cell_id };
    case "display_update":
      return { type: "display_update", cellId: message.cell_id, index: message.index, output: decodeOutput(message.output) };
    case "execution_done":
      return {
        type: "execution_done",
        executionId: message.execution_id,
        cellId: message.cell_id,
        success: message.success,
        executionCount: message.execution_count,
        error: message.error,
      };
    case "queue_changed":
      return { type: "queue_changed", executing: message.executing ? toQueueEntry(message.executing) : null, queued: message.queued.map(toQueueEntry) };
    case "kernel_error":
      return { type: "kernel_error", message: message.message };
    case "input_request":
      return { type: "input_request", executionId: message.execution_id, prompt: message.prompt, password: message.password };
    case "comm":
      return { type: "comm", msgType: message.msg_type, content: message.content };
    case "env_progress":
      return { type: "env_progress", phase: message.phase, package: message.package, fraction: message.fraction, message: message.message };
    case "stream_append":
      return streams.apply(message);
    case "daemon_stopping":
      return { type: "daemon_stopping", message: message.message };
  }
}
