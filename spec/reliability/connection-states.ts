import type { Session } from "../../lib/session/session";
import type { ConnectionState } from "../../lib/session/types";

/** Every state a session's connection goes through from now on, in order (the array fills as they come). */
export function recordStates(session: Session): ConnectionState[] {
  const states: ConnectionState[] = [];
  session.connection$.subscribe((state) => states.push(state));
  return states;
}
