import { ExecutionTracker } from "./execution-tracker";
import type { ExecutionResult, RoomEvent } from "./types";

/**
 * Follows every execution that starts in the room (this session's and every other client's)
 * through its live events, so that the moment one is done its outputs are known — before the
 * daemon's document write carries them (see ResultOverlay).
 */
export class RoomResults {
  private readonly running = new Map<string, ExecutionTracker>();

  constructor(private readonly done: (result: ExecutionResult) => void) {}

  apply(event: RoomEvent): void {
    if (event.type === "execution_started") {
      this.running.set(event.executionId, new ExecutionTracker(event.cellId, event.executionId));
    }
    if (!("executionId" in event) || event.executionId === null) return;
    const tracker = this.running.get(event.executionId);
    if (!tracker) return;
    for (const executionEvent of tracker.apply(event)) {
      if (executionEvent.type !== "result") continue;
      this.running.delete(event.executionId);
      this.done(executionEvent.result);
    }
  }

  /** Events were missed (a new connection): what was being followed may lack outputs. */
  reset(): void {
    this.running.clear();
  }
}
