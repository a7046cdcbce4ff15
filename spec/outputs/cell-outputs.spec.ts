import type * as nbformat from "@jupyterlab/nbformat";
import { CellOutputs, type OutputChange } from "../../lib/outputs/cell-outputs";
import type { StreamOutput } from "../../lib/outputs/stream-output";
import { StreamState } from "../../lib/session/stream-state";

const stdout = (text: string) => ["stream", { name: "stdout", text }] as const;
const stderr = (text: string) => ["stream", { name: "stderr", text }] as const;
const display = (text: string, displayId?: string) =>
  [
    "display_data",
    { data: { "text/plain": text }, metadata: {}, ...(displayId ? { transient: { display_id: displayId } } : {}) },
  ] as const;

/**
 * Applies changes the way a client does, to check they describe the list: outputs as they are,
 * streams through the deltas the daemon sends live and the client-side StreamState.
 */
class View {
  readonly outputs: nbformat.IOutput[] = [];
  private readonly streams = new Map<StreamOutput, { state: StreamState; tail: string | undefined }>();

  replay(changes: OutputChange[]): void {
    for (const change of changes) {
      if (change.type === "cleared") {
        this.outputs.length = 0;
        continue;
      }
      expect(change.index).toBeLessThanOrEqual(this.outputs.length);
      if (change.type === "set") {
        this.outputs[change.index] = change.output;
        continue;
      }
      let known = this.streams.get(change.stream);
      if (!known) this.streams.set(change.stream, (known = { state: new StreamState(change.stream.name), tail: undefined }));
      const delta = change.stream.takeDelta(known.tail);
      if (!delta) continue;
      known.tail = delta.tail;
      const update = known.state.apply(delta.offset, new TextDecoder().decode(delta.appended), delta.appended.byteLength, delta.tail);
      expect(update.complete).toBe(true);
      this.outputs[change.index] = update.output;
    }
  }
}

describe("CellOutputs", () => {
  let cell: CellOutputs;
  let view: View;
  const apply = async (msgType: string, content: unknown): Promise<OutputChange[]> => {
    const changes = await cell.apply(msgType, content);
    view.replay(changes);
    expect(view.outputs).toEqual(cell.outputs);
    return changes;
  };

  beforeEach(() => {
    cell = new CellOutputs();
    view = new View();
  });
  afterEach(() => cell.dispose());

  describe("streams", () => {
    it("merges many small prints into one output", async () => {
      for (let i = 0; i < 2000; i++) await apply(...stdout(`${i}\n`));
      expect(cell.outputs).toHaveLength(1);
      expect(cell.outputs[0]).toEqual({
        output_type: "stream",
        name: "stdout",
        text: Array.from({ length: 2000 }, (_, i) => `${i}\n`).join(""),
      });
    });

    it("reports each chunk as a change of the merged stream output", async () => {
      await apply(...stdout("a\n"));
      const changes = await apply(...stdout("b\n"));
      expect(changes).toEqual([{ type: "stream", index: 0, stream: expect.anything() }]);
      expect(cell.outputs[0]).toEqual({ output_type: "stream", name: "stdout", text: "a\nb\n" });
    });

    it("keeps interleaved stdout and stderr as separate outputs", async () => {
      await apply(...stdout("out1\n"));
      await apply(...stderr("err1\n"));
      await apply(...stdout("out2\n"));
      expect(cell.outputs.map((o) => [o.name, o.text])).toEqual([
        ["stdout", "out1\n"],
        ["stderr", "err1\n"],
        ["stdout", "out2\n"],
      ]);
    });

    it("starts a fresh terminal for a stream that follows another output", async () => {
      await apply(...stdout("50%"));
      await apply(...stderr("warning\n"));
      await apply(...stdout("\r100%"));
      expect(cell.outputs[2]).toMatchObject({ name: "stdout", text: "100%" });
      expect(cell.outputs[0]).toMatchObject({ text: "50%" });
    });

    it("renders a progress bar across messages as its last frame", async () => {
      for (let p = 0; p <= 100; p += 10) await apply(...stdout(`\rprogress ${p}%`));
      await apply(...stdout("\n"));
      expect(cell.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "progress 100%\n" }]);
    });

    it("keeps colours in stream text", async () => {
      await apply(...stderr("\x1b[31mError\x1b[0m\n"));
      expect(cell.outputs[0]).toMatchObject({ text: "\x1b[31mError\x1b[0m\n" });
    });

    it("keeps message order when callers do not await", async () => {
      const pending = [
        cell.apply(...stdout("a\r")),
        cell.apply(...stdout("b\n")),
        cell.apply(...display("D")),
        cell.apply(...stdout("c")),
      ];
      for (const changes of await Promise.all(pending)) view.replay(changes);
      expect(view.outputs).toEqual(cell.outputs);
      expect(cell.outputs).toEqual([
        { output_type: "stream", name: "stdout", text: "b\n" },
        { output_type: "display_data", data: { "text/plain": "D" }, metadata: {} },
        { output_type: "stream", name: "stdout", text: "c" },
      ]);
    });
  });

  describe("rich outputs and errors", () => {
    it("adds display_data and execute_result without their transient", async () => {
      await apply(...display("shown", "d1"));
      await apply("execute_result", { execution_count: 7, data: { "text/plain": "7" }, metadata: { m: 1 } });
      expect(cell.outputs).toEqual([
        { output_type: "display_data", data: { "text/plain": "shown" }, metadata: {} },
        { output_type: "execute_result", execution_count: 7, data: { "text/plain": "7" }, metadata: { m: 1 } },
      ]);
    });

    it("adds an error output", async () => {
      await apply("error", { ename: "ZeroDivisionError", evalue: "division by zero", traceback: ["tb1", "tb2"] });
      expect(cell.outputs).toEqual([
        { output_type: "error", ename: "ZeroDivisionError", evalue: "division by zero", traceback: ["tb1", "tb2"] },
      ]);
    });

    it("does not merge a stream into the stream before a display", async () => {
      await apply(...stdout("before\n"));
      await apply(...display("D"));
      await apply(...stdout("after\n"));
      expect(cell.outputs.map((o) => o.output_type)).toEqual(["stream", "display_data", "stream"]);
    });

    it("ignores malformed content and unknown messages", async () => {
      expect(await apply("stream", { name: "stdout" })).toEqual([]);
      expect(await apply("stream", { name: "stdin", text: "x" })).toEqual([]);
      expect(await apply("stream", null)).toEqual([]);
      expect(await apply("display_data", { data: "nope" })).toEqual([]);
      expect(await apply("error", { ename: 1 })).toEqual([]);
      expect(await apply("status", { execution_state: "busy" })).toEqual([]);
      expect(await apply("execute_input", { code: "1" })).toEqual([]);
      expect(await apply("update_display_data", { data: {} })).toEqual([]);
      expect(cell.outputs).toEqual([]);
    });
  });

  describe("clear_output", () => {
    it("clears at once without wait", async () => {
      await apply(...stdout("old\n"));
      expect(await apply("clear_output", { wait: false })).toEqual([{ type: "cleared" }]);
      expect(cell.outputs).toEqual([]);
      await apply(...stdout("new\n"));
      expect(cell.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "new\n" }]);
    });

    it("with wait, clears just before the next output", async () => {
      await apply(...stdout("frame 1\n"));
      expect(await apply("clear_output", { wait: true })).toEqual([]);
      expect(cell.outputs).toHaveLength(1);
      expect(await apply(...stdout("frame 2\n"))).toEqual([{ type: "cleared" }, { type: "stream", index: 0, stream: expect.anything() }]);
      expect(cell.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "frame 2\n" }]);
    });

    it("with wait, clears before a display or an error too", async () => {
      await apply(...display("a"));
      await apply("clear_output", { wait: true });
      const changes = await apply(...display("b"));
      expect(changes.map((c) => c.type)).toEqual(["cleared", "set"]);
      await apply("clear_output", { wait: true });
      await apply("error", { ename: "E", evalue: "v", traceback: [] });
      expect(cell.outputs).toEqual([{ output_type: "error", ename: "E", evalue: "v", traceback: [] }]);
    });

    it("animates with repeated wait clears", async () => {
      for (let i = 0; i < 20; i++) {
        await apply("clear_output", { wait: true });
        await apply(...stdout(`tick ${i}\n`));
      }
      expect(cell.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "tick 19\n" }]);
    });

    it("forgets display ids it cleared", async () => {
      await apply(...display("a", "d1"));
      await apply("clear_output", {});
      expect(cell.updateDisplay("d1", { "text/plain": "b" }, {})).toEqual([]);
    });
  });

  describe("display updates", () => {
    it("reports display ids with their index", async () => {
      const added: [string, number][] = [];
      cell = new CellOutputs({ onDisplayIdAdded: (id, index) => added.push([id, index]) });
      await apply(...stdout("x\n"));
      await apply(...display("a", "d1"));
      await apply(...display("no id"));
      await apply(...display("b", "d2"));
      expect(added).toEqual([
        ["d1", 1],
        ["d2", 3],
      ]);
    });

    it("replaces data and metadata of every output with the display id", async () => {
      await apply(...display("a", "d1"));
      await apply(...display("other", "d2"));
      await apply(...display("a again", "d1"));
      const changes = cell.updateDisplay("d1", { "text/plain": "updated" }, { fresh: true });
      view.replay(changes);
      expect(changes.map((c) => c.type === "set" && c.index)).toEqual([0, 2]);
      expect(cell.outputs.map((o) => (o.data as Record<string, string>)["text/plain"])).toEqual(["updated", "other", "updated"]);
      expect(cell.outputs[0]?.metadata).toEqual({ fresh: true });
      expect(view.outputs).toEqual(cell.outputs);
    });

    it("applies update_display_data messages", async () => {
      await apply("execute_result", { execution_count: 1, data: { "text/plain": "1" }, metadata: {}, transient: { display_id: "r" } });
      await apply("update_display_data", { data: { "text/plain": "2" }, metadata: {}, transient: { display_id: "r" } });
      expect(cell.outputs).toEqual([{ output_type: "execute_result", execution_count: 1, data: { "text/plain": "2" }, metadata: {} }]);
    });

    it("does not let an update trigger a pending wait clear", async () => {
      await apply(...display("a", "d1"));
      await apply("clear_output", { wait: true });
      await apply("update_display_data", { data: { "text/plain": "b" }, metadata: {}, transient: { display_id: "d1" } });
      expect(cell.outputs).toHaveLength(1);
      expect(cell.outputs[0]).toMatchObject({ data: { "text/plain": "b" } });
    });

    it("ignores updates for unknown display ids", async () => {
      await apply(...display("a", "d1"));
      expect(cell.updateDisplay("nope", {}, {})).toEqual([]);
    });
  });

  it("ignores messages after dispose", async () => {
    cell.dispose();
    expect(await cell.apply(...stdout("late"))).toEqual([]);
    expect(cell.outputs).toEqual([]);
  });
});
