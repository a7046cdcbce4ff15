import { createMessage, type JupyterMessage } from "../kernel/wire";

/** What a cell whose end was lost in a connection gap shows. */
export const LOST_END_MESSAGE =
  "The connection to the gateway dropped while this cell ran and its end was lost; the outputs that arrived before the drop are kept";

/** What a cell that finished but may have lost outputs in a connection gap shows. */
export const LOST_OUTPUTS_MESSAGE = "[runtimed] The connection to the gateway dropped while this cell ran; some of its outputs may be missing\n";

function caused(msgType: string, content: object, session: string, parentId: string): JupyterMessage {
  const message = createMessage(msgType, content, session);
  message.parent_header = { msg_id: parentId, msg_type: "execute_request" };
  message.metadata = { runtimed_synthesized: true };
  return message;
}

/**
 * The messages that end an execution whose last messages a connection gap swallowed: iopub
 * messages to publish, then the execute_reply if it never came (`replied` false). The error
 * (or the note on stderr) says what happened; the idle status lets the execution finish.
 */
export function lostEndMessages(parentId: string, replied: boolean, session: string): { iopub: JupyterMessage[]; reply: JupyterMessage | undefined } {
  const iopub: JupyterMessage[] = [];
  let reply: JupyterMessage | undefined;
  if (replied) {
    iopub.push(caused("stream", { name: "stderr", text: LOST_OUTPUTS_MESSAGE }, session, parentId));
  } else {
    const error = { ename: "ConnectionLost", evalue: LOST_END_MESSAGE, traceback: [LOST_END_MESSAGE] };
    iopub.push(caused("error", error, session, parentId));
    reply = caused("execute_reply", { status: "error", execution_count: null, ...error }, session, parentId);
  }
  iopub.push(caused("status", { execution_state: "idle" }, session, parentId));
  return { iopub, reply };
}
