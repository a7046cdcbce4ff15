import { Observable } from "rxjs";
import type { Output, RoomEvent } from "./types";

/** Where one cell's outputs come from: the document, and the room's live broadcasts. */
export interface OutputSources {
  /** Emits when the document (or what its outputs read as) may have changed; completes with the session. */
  documentChanged$: Observable<unknown>;
  events$: Observable<RoomEvent>;
  /** What identifies the document's outputs of the cell now (its manifests, cheap to compare). */
  documentKey(): readonly unknown[];
  /** The cell's outputs as the document holds them now. */
  fromDocument(): Output[];
}

/**
 * The outputs of one cell, live. While the cell runs they come from the room's broadcasts (which
 * arrive before the daemon's coalesced document writes); otherwise from the document. Emits
 * when the list changes (a change to another cell does not re-emit it); completes when the
 * document stream does (the session closed).
 */
export function liveOutputs(cellId: string, sources: OutputSources): Observable<Output[]> {
  return new Observable<Output[]>((subscriber) => {
    let live: Output[] | null = null;
    let shownKey: readonly unknown[] | undefined;
    // After the cell is done, its live outputs stay until the document holds them (the daemon
    // writes them a moment after it says the cell is done): no flicker back to the old ones.
    let keyAtDone: readonly unknown[] | undefined;
    const emitLive = () => subscriber.next(live!.filter((output) => output !== undefined));
    const emitDocument = () => {
      const key = sources.documentKey();
      if (shownKey && sameItems(shownKey, key)) return;
      shownKey = key;
      subscriber.next(sources.fromDocument());
    };
    const goLive = () => {
      live = [];
      shownKey = undefined;
      keyAtDone = undefined;
    };
    const documentChanged = () => {
      if (live === null) return emitDocument();
      if (keyAtDone === undefined || sameItems(keyAtDone, sources.documentKey())) return;
      live = null;
      emitDocument();
    };
    emitDocument();
    const subscriptions = [
      sources.documentChanged$.subscribe({ next: documentChanged, complete: () => subscriber.complete() }),
      sources.events$.subscribe((event) => {
        if (!("cellId" in event) || event.cellId !== cellId) return;
        switch (event.type) {
          case "execution_started":
            goLive();
            return emitLive();
          case "output":
            // A client that joins mid-cell gets its outputs restated without a start event.
            if (!live) goLive();
            live![event.index] = event.output;
            return emitLive();
          case "display_update":
            if (!live) return;
            live[event.index] = event.output;
            return emitLive();
          case "clear_outputs":
            if (!live) return emitDocument();
            goLive();
            return emitLive();
          case "execution_done":
            if (live === null) return emitDocument();
            keyAtDone = sources.documentKey();
            return;
        }
      }),
    ];
    return () => subscriptions.forEach((subscription) => subscription.unsubscribe());
  });
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
