import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import type * as nbformat from "@jupyterlab/nbformat";
import { filter, firstValueFrom, lastValueFrom, take, toArray } from "rxjs";
import type { RoomEvent } from "../../lib/session/types";
import { useTestDaemon } from "./harness";

jest.setTimeout(120_000);

const testDaemon = useTestDaemon();

const peerScript = path.join(__dirname, "fixtures", "peer-process.ts");

/** Starts a client in another process; its stdout is JSON lines. */
function startPeer(notebookId: string, mode: "writer" | "watcher") {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--import", require.resolve("tsx"), peerScript, testDaemon().socketPath, notebookId, mode]);
  const lines: unknown[] = [];
  const waiters: { predicate: (line: unknown) => boolean; resolve: (line: unknown) => void }[] = [];
  let buffer = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffer.slice(0, newline)) as unknown;
      buffer = buffer.slice(newline + 1);
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    stderr: () => stderr,
    waitFor<T>(predicate: (line: T) => boolean, timeoutMs = 60_000): Promise<T> {
      const found = lines.find((line) => predicate(line as T));
      if (found) return Promise.resolve(found as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`peer did not print the expected line; stderr: ${stderr}`)), timeoutMs);
        waiters.push({
          predicate: (line) => predicate(line as T),
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line as T);
          },
        });
      });
    },
    async stop(): Promise<void> {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

describe("two sessions in two processes", () => {
  it("a session in another process edits and runs; this one sees the cell, its source and its outputs live", async () => {
    const watcher = testDaemon().session({ notebookId: "cross-process-1" });
    await watcher.connect();
    const started = firstValueFrom(watcher.events$.pipe(filter((e) => e.type === "execution_started")));
    const sawOutput = firstValueFrom(watcher.events$.pipe(filter((e): e is Extract<RoomEvent, { type: "output" }> => e.type === "output")));
    const peer = startPeer("cross-process-1", "writer");
    try {
      const line = await peer.waitFor<{ cellId: string; stdout: string; success: boolean }>((l) => "cellId" in (l as object));
      expect(line).toMatchObject({ stdout: "from the other process, edited\n", success: true });
      await started;
      expect((await sawOutput).output).toMatchObject({ output_type: "stream", text: "from the other process, edited\n" });
      const cell = await firstValueFrom(watcher.cell$(line.cellId).pipe(filter((c) => c.outputs.length > 0)));
      expect(cell.source).toBe("print('from the other process, edited')");
      const outputs = await firstValueFrom(watcher.outputs$(line.cellId));
      expect(outputs).toEqual([{ output_type: "stream", name: "stdout", text: "from the other process, edited\n" }]);
      expect(await peer.exited).toBe(0);
    } finally {
      await peer.stop();
    }
  });

  it("a watcher in another process sees what this session does", async () => {
    const peer = startPeer("cross-process-2", "watcher");
    try {
      await peer.waitFor<{ kind: string }>((l) => l.kind === "ready");
      const session = testDaemon().session({ notebookId: "cross-process-2" });
      const result = await session.run("print('watched')");
      const seen = await peer.waitFor<{ kind: string; cells?: { id: string; outputs: nbformat.IOutput[] }[] }>(
        (l) => l.kind === "cells" && (l.cells ?? []).some((c) => c.id === result.cellId && c.outputs.length > 0),
      );
      expect(seen.cells!.find((c) => c.id === result.cellId)!.outputs[0]).toMatchObject({ text: "watched\n" });
      await peer.waitFor<{ kind: string; event?: RoomEvent }>((l) => l.kind === "event" && l.event?.type === "execution_done");
    } finally {
      await peer.stop();
    }
  });
});

describe("many clients, one notebook", () => {
  it("concurrent edits of one source merge character-wise; edits of different cells both survive", async () => {
    const left = testDaemon().session({ notebookId: "merge" });
    const right = testDaemon().session({ notebookId: "merge" });
    await left.connect();
    await right.connect();
    const shared = left.createCell("hello");
    await left.flush();
    await firstValueFrom(right.cell$(shared));
    // Both edit before either has seen the other's change.
    right.setSource(shared, "oh hello");
    left.setSource(shared, "hello world");
    const leftOnly = left.createCell("left cell");
    const rightOnly = right.createCell("right cell");
    await Promise.all([left.flush(), right.flush()]);
    const converged = (session: typeof left) =>
      firstValueFrom(session.cells$.pipe(filter((cells) => cells.length === 3 && cells.some((c) => c.source === "oh hello world"))));
    const [l, r] = await Promise.all([converged(left), converged(right)]);
    expect(l).toEqual(r);
    expect(l.map((c) => c.id).sort()).toEqual([shared, leftOnly, rightOnly].sort());
  });

  it("patches$ tells local from remote changes", async () => {
    const a = testDaemon().session({ notebookId: "patch-origin" });
    const b = testDaemon().session({ notebookId: "patch-origin" });
    await a.connect();
    await b.connect();
    const remote = firstValueFrom(b.patches$.pipe(filter((p) => p.origin === "remote")));
    const local = firstValueFrom(a.patches$.pipe(filter((p) => p.origin === "local")));
    a.createCell("x");
    expect((await local).patches.length).toBeGreaterThan(0);
    expect((await remote).patches.length).toBeGreaterThan(0);
  });

  it("input() reaches clients as an input_request and sendInput answers it", async () => {
    const session = testDaemon().session({ notebookId: "stdin" });
    const other = testDaemon().session({ notebookId: "stdin" });
    await other.connect();
    const cellId = session.createCell("name = input('Your name? ')\nprint('hello', name)");
    const prompt = firstValueFrom(other.events$.pipe(filter((e) => e.type === "input_request")));
    const events = lastValueFrom(session.execute(cellId).pipe(toArray()));
    expect(await prompt).toMatchObject({ prompt: "Your name? ", password: false });
    await other.sendInput("Ada");
    const all = await events;
    expect(all.some((e) => e.type === "input_request")).toBe(true);
    const result = all[all.length - 1]!;
    expect(result.type === "result" && result.result.stdout).toContain("hello Ada");
  });

  it("comms reach every client, and a client that joins later gets the widget state", async () => {
    const session = testDaemon().session({ notebookId: "comms" });
    const opened = firstValueFrom(session.events$.pipe(filter((e) => e.type === "comm" && e.msgType === "comm_open")));
    const result = await session.run(
      [
        "from ipykernel.comm import Comm",
        "received = []",
        "c = Comm(target_name='jupyter.widget', data={'state': {'value': 1, 'description': 'slider'}, 'buffer_paths': []})",
        "c.on_msg(lambda msg: received.append(msg['content']['data']))",
        "c.send({'method': 'update', 'state': {'value': 5}, 'buffer_paths': []})",
        "print(c.comm_id)",
      ].join("\n"),
    );
    const commId = result.stdout.trim();
    expect(await opened).toMatchObject({ type: "comm", content: { comm_id: commId } });
    // A client sends a state update to the kernel through the daemon.
    await session.sendComm("comm_msg", { comm_id: commId, data: { method: "update", state: { value: 7 }, buffer_paths: [] } });
    const late = testDaemon().session({ notebookId: "comms" });
    const replayed = firstValueFrom(late.events$.pipe(filter((e) => e.type === "comm" && e.msgType === "comm_open"), take(1)));
    await late.connect();
    const replay = await replayed;
    expect(replay).toMatchObject({ content: { comm_id: commId, target_name: "jupyter.widget", data: { state: { value: 7, description: "slider" } } } });
    const kernelSaw = await session.run("import time\nfor _ in range(50):\n    if received: break\n    time.sleep(0.05)\nprint(received[-1]['state']['value'] if received else None)");
    expect(kernelSaw.stdout).toBe("7\n");
  });
});
