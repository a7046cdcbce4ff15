/**
 * What a peer's Automerge sync state says without asking Automerge. `generateSyncMessage`
 * costs tens of microseconds even when it has nothing to send (it imports and exports the whole
 * state and builds a bloom filter), and the daemon and every client call it after each message:
 * these checks let them skip the calls whose answer is known.
 */
import type * as Automerge from "@automerge/automerge";

/** The fields of Automerge's JS sync state read here (present in every exported state). */
interface StateFields {
  lastSentHeads?: string[];
  theirHeads?: string[] | null;
  theirNeed?: string[] | null;
  inFlight?: boolean;
  haveResponded?: boolean;
}

function fields(state: Automerge.SyncState): StateFields {
  return state as unknown as StateFields;
}

/**
 * True when `generateSyncMessage` would return no message for this state while the document's
 * heads are `heads` (mirrors Automerge's own test: we told the peer these heads and it has
 * answered, and either our last message is still unanswered or the peer has exactly these
 * heads and needs nothing). False whenever in doubt: then Automerge decides.
 */
export function nothingToSend(state: Automerge.SyncState, heads: readonly string[]): boolean {
  const { lastSentHeads, theirHeads, theirNeed, inFlight, haveResponded } = fields(state);
  if (haveResponded !== true || !lastSentHeads || !sameHeads(lastSentHeads, heads)) return false;
  if (inFlight === true) return true;
  return !!theirHeads && sameHeads(theirHeads, heads) && Array.isArray(theirNeed) && theirNeed.length === 0;
}

/**
 * True when the peer already has every change of a document with these heads, so that the next
 * message to it could only tell it our heads (an acknowledgement), nothing it lacks.
 */
export function peerHasAll(state: Automerge.SyncState, heads: readonly string[]): boolean {
  const { theirHeads, theirNeed } = fields(state);
  return !!theirHeads && sameHeads(theirHeads, heads) && Array.isArray(theirNeed) && theirNeed.length === 0;
}

/** Whether two lists of change hashes are the same, in the same order (as Automerge compares them). */
export function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((head, i) => head === b[i]);
}

