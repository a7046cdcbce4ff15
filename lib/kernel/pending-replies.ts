import { RuntimedError } from "../protocol/errors";
import type { JupyterMessage } from "./wire";

interface PendingReply {
  msgType: string;
  sentAt: number;
  resolve(reply: JupyterMessage): void;
  reject(error: RuntimedError): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Requests waiting for their reply, matched by the reply's `parent_header.msg_id`.
 * Every promise handed out is also observed here, so a caller that never awaits a reply
 * (it only watched iopub) does not get an unhandled rejection when the kernel dies.
 */
export class PendingReplies {
  private readonly byMsgId = new Map<string, PendingReply>();

  /**
   * Registers `msgId` and returns the promise of its reply; `send` runs after registration so
   * even an instant reply finds it. Rejects `TIMEOUT` after `timeoutMs` when given.
   */
  expect(msgId: string, msgType: string, timeoutMs: number | undefined, send: () => void): Promise<JupyterMessage> {
    const reply = new Promise<JupyterMessage>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.byMsgId.delete(msgId);
              reject(new RuntimedError("TIMEOUT", `No reply to ${msgType} ${msgId} within ${timeoutMs} ms`));
            }, timeoutMs);
      this.byMsgId.set(msgId, { msgType, sentAt: Date.now(), resolve, reject, timer });
      send();
    });
    reply.catch(() => undefined);
    return reply;
  }

  /** Resolves the request `parentId` with `reply`; false when nobody waits for it. */
  settle(parentId: string, reply: JupyterMessage): boolean {
    const pending = this.byMsgId.get(parentId);
    if (pending === undefined) return false;
    this.byMsgId.delete(parentId);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pending.resolve(reply);
    return true;
  }

  /** The type of request `msgId` and when it was sent, while it waits for its reply. */
  waiting(msgId: string): { msgType: string; sentAt: number } | undefined {
    const pending = this.byMsgId.get(msgId);
    return pending && { msgType: pending.msgType, sentAt: pending.sentAt };
  }

  /** Rejects every waiting request with `error` (the kernel is gone). */
  rejectAll(error: RuntimedError): void {
    for (const pending of this.byMsgId.values()) {
      if (pending.timer !== undefined) clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.byMsgId.clear();
  }
}
