import type { Broadcast } from "../protocol/messages";

interface OpenComm {
  content: Record<string, unknown>;
  state: Record<string, unknown>;
}

/**
 * The room's memory of open comms (ipywidgets): each comm's open message and its state as
 * updated since, so a client that joins later sees every widget as it is now.
 */
export class CommStore {
  private readonly comms = new Map<string, OpenComm>();

  /** Records a kernel comm message and returns its broadcast. */
  fromKernel(msgType: "comm_open" | "comm_msg" | "comm_close", content: Record<string, unknown>): Broadcast {
    this.record(msgType, content);
    return { event: "comm", msg_type: msgType, content };
  }

  /** Records a comm message a client sends to the kernel (its state updates count too). */
  fromClient(msgType: string, content: Record<string, unknown>): void {
    if (msgType === "comm_open" || msgType === "comm_msg" || msgType === "comm_close") this.record(msgType, content);
  }

  /** `comm_open` broadcasts that rebuild every open comm with its current state. */
  replay(): Broadcast[] {
    return [...this.comms.values()].map(({ content, state }) => {
      const data = { ...((content.data ?? {}) as Record<string, unknown>), state };
      return { event: "comm", msg_type: "comm_open", content: { ...content, data } };
    });
  }

  /** Forgets every comm (their kernel is gone); returns their ids. */
  clear(): string[] {
    const ids = [...this.comms.keys()];
    this.comms.clear();
    return ids;
  }

  get size(): number {
    return this.comms.size;
  }

  private record(msgType: string, content: Record<string, unknown>): void {
    const commId = content.comm_id;
    if (typeof commId !== "string") return;
    if (msgType === "comm_open") {
      const data = (content.data ?? {}) as { state?: Record<string, unknown> };
      this.comms.set(commId, { content, state: { ...(data.state ?? {}) } });
    } else if (msgType === "comm_close") {
      this.comms.delete(commId);
    } else {
      const comm = this.comms.get(commId);
      const data = (content.data ?? {}) as { method?: unknown; state?: Record<string, unknown> };
      if (comm && data.method === "update" && data.state) Object.assign(comm.state, data.state);
    }
  }
}
