import * as Automerge from "@automerge/automerge";
import { insertCell, setCellSource } from "../../lib/notebook/cells";
import { createNotebookDoc, type NotebookDoc } from "../../lib/notebook/schema";
import { nothingToSend, peerHasAll } from "../../lib/notebook/sync-state";

type Doc = Automerge.Doc<NotebookDoc>;

/** One side of a sync session between two replicas, with the messages in flight to it. */
interface Side {
  doc: Doc;
  state: Automerge.SyncState;
  inbox: Uint8Array[];
}

/**
 * A sync state as JSON, without `theirCapabilities`: Automerge's JS state drops "sync-reset" from
 * it on every import and export (it only matters for a reset we never ask for), so a call that
 * sends nothing still changes that field.
 */
function stateJson(state: Automerge.SyncState): string {
  return JSON.stringify({ ...state, theirCapabilities: undefined }, (_key, value: unknown) => (value instanceof Uint8Array ? [...value] : value));
}

/** A small deterministic random source, so a failure replays. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe("nothingToSend", () => {
  it.each([7, 11, 23])("is true only where generateSyncMessage has no message, through random edits, deliveries and calls (seed %d)", (seed) => {
    const next = random(seed);
    const start = Automerge.change(createNotebookDoc(), (draft) => void insertCell(draft, { id: "cell-1", cellType: "code", source: "" }));
    const sides: Side[] = [
      { doc: start, state: Automerge.initSyncState(), inbox: [] },
      { doc: Automerge.clone(start), state: Automerge.initSyncState(), inbox: [] },
    ];
    let checked = 0;
    let skipped = 0;
    for (let step = 0; step < 600; step++) {
      const index = next() < 0.5 ? 0 : 1;
      const side = sides[index]!;
      const other = sides[1 - index]!;
      const roll = next();
      if (roll < 0.25) {
        side.doc = Automerge.change(side.doc, (draft) => setCellSource(draft, 0, `edit ${step} by ${index}`));
      } else if (roll < 0.6 && side.inbox.length > 0) {
        [side.doc, side.state] = Automerge.receiveSyncMessage(side.doc, side.state, side.inbox.shift()!);
      } else {
        const heads = Automerge.getHeads(side.doc);
        const says = nothingToSend(side.state, heads);
        const before = stateJson(side.state);
        const [state, message] = Automerge.generateSyncMessage(side.doc, side.state);
        checked++;
        if (says) {
          skipped++;
          expect(message).toBeNull();
          // Skipping the call must not lose anything the call would have recorded.
          expect(stateJson(state)).toBe(before);
        }
        side.state = state;
        if (message) other.inbox.push(message);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(skipped).toBeGreaterThan(10);
  });
});

describe("peerHasAll", () => {
  it("is true once the other side has said it holds our heads, false while it lacks a change", () => {
    let a: Doc = Automerge.change(createNotebookDoc(), (draft) => void insertCell(draft, { id: "cell-1", cellType: "code", source: "x" }));
    let b: Doc = createNotebookDoc();
    let stateA = Automerge.initSyncState();
    let stateB = Automerge.initSyncState();
    const settle = () => {
      for (let round = 0; round < 10; round++) {
        const [nextA, toB] = Automerge.generateSyncMessage(a, stateA);
        stateA = nextA;
        if (toB) [b, stateB] = Automerge.receiveSyncMessage(b, stateB, toB);
        const [nextB, toA] = Automerge.generateSyncMessage(b, stateB);
        stateB = nextB;
        if (toA) [a, stateA] = Automerge.receiveSyncMessage(a, stateA, toA);
        if (!toA && !toB) return;
      }
    };
    settle();
    expect(peerHasAll(stateA, Automerge.getHeads(a))).toBe(true);
    a = Automerge.change(a, (draft) => setCellSource(draft, 0, "y"));
    expect(peerHasAll(stateA, Automerge.getHeads(a))).toBe(false);
    settle();
    expect(peerHasAll(stateA, Automerge.getHeads(a))).toBe(true);
  });
});
