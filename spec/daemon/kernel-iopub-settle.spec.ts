import { TestScheduler } from "rxjs/testing";
import { settleIdle } from "../../lib/daemon/kernel-iopub-settle";
import type { JupyterMessage } from "../../lib/kernel/wire";

function message(msgType: string, parentId: string, content: Record<string, unknown> = {}): JupyterMessage {
  return {
    identities: [],
    header: { msg_id: `${msgType}-${parentId}`, msg_type: msgType, session: "s", username: "u", date: "", version: "5.3" },
    parent_header: { msg_id: parentId },
    metadata: {},
    content,
    buffers: [],
  } as unknown as JupyterMessage;
}

const values = {
  a: message("stream", "first", { name: "stdout", text: "a" }),
  i: message("status", "first", { execution_state: "idle" }),
  l: message("execute_result", "first", { data: { "text/plain": "2" } }),
  b: message("status", "second", { execution_state: "busy" }),
  j: message("status", "second", { execution_state: "idle" }),
};

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe("settleIdle", () => {
  it("delays an idle status until its request has been quiet for the settle time", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-a-i-----", values).pipe(settleIdle(3))).toBe("-a----i--", values);
    });
  });

  it("lets a message that trails its idle through first, then waits for quiet again", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-a-i-l-------", values).pipe(settleIdle(5))).toBe("-a---l----i--", values);
    });
  });

  it("releases a held idle at once when another request's message arrives, keeping requests in order", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-i-b-j------", values).pipe(settleIdle(5))).toBe("---(ib)---j", values);
    });
  });

  it("releases a held idle when the kernel's stream ends", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-a-i-|", values).pipe(settleIdle(10))).toBe("-a---(i|)", values);
    });
  });

  it("passes every other message through untouched and on time", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("-a-l-b-", values).pipe(settleIdle(10))).toBe("-a-l-b-", values);
    });
  });
});
