import { Observable, distinctUntilChanged } from "rxjs";
import type { DocumentPatch, Output, RoomEvent } from "./types";

/** Where one cell's outputs come from: the document, and the room's live broadcasts. */
export interface OutputSources {
  patches$: Observable<DocumentPatch>;
  events$: Observable<RoomEvent>;
  /** The cell's outputs as the document holds them now. */
  fromDocument(): Output[];
}

/**
 * The outputs of one cell, live. While the cell runs they come from the room's broadcasts (which
 * arrive before the daemon's coalesced document writes); otherwise from the document. Emits
 * only when the list changes; completes when the document stream does (the session closed).
 */
export function liveOutputs(cellId: string, sources: OutputSources): Observable<Output[]> {
  return new Observable<Output[]>((subscriber) => {
    let live: Output[] | null = null;
    const emit = () => subscriber.next(live ? live.filter((output) => output !== undefined) : sources.fromDocument());
    emit();
    const subscriptions = [
      sources.patches$.subscribe({ next: () => live === null && emit(), complete: () => subscriber.complete() }),
      sources.events$.subscribe((event) => {
        if (!("cellId" in event) || event.cellId !== cellId) return;
        if (event.type === "execution_started") live = [];
        else if ((event.type === "output" || event.type === "display_update") && live) live[event.index] = event.output;
        else if (event.type === "clear_outputs") live = live ? [] : null;
        else if (event.type === "execution_done") live = null;
        else return;
        emit();
      }),
    ];
    return () => subscriptions.forEach((subscription) => subscription.unsubscribe());
  }).pipe(distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)));
}
