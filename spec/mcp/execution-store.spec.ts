import { ExecutionStore, type ExecutionRecord } from "../../lib/mcp/execution-store";

function record(executionId: string): ExecutionRecord {
  return { executionId, notebookId: "nb", cellId: "cell-1", status: "running", executionCount: null, outputs: [] };
}

describe("the execution store", () => {
  it("returns the record the runner keeps updating", () => {
    const store = new ExecutionStore();
    const running = record("e1");
    store.add(running);
    running.status = "done";
    expect(store.get("e1")).toMatchObject({ status: "done" });
    expect(store.get("e2")).toBeUndefined();
  });

  it("forgets the oldest records beyond its limit", () => {
    const store = new ExecutionStore(2);
    for (const id of ["e1", "e2", "e3"]) store.add(record(id));
    expect([store.get("e1"), store.get("e2")?.executionId, store.get("e3")?.executionId]).toEqual([undefined, "e2", "e3"]);
  });
});
