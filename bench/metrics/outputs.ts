/**
 * Output throughput: many flushed prints, many unflushed prints, one 5 MB print — each timed
 * from request to the end of the execution with every byte of stdout in hand.
 */
import { jlabNote, jlabValue, ratioRow, whenJlab, type BenchContext, type Metric, type Row } from "../context";
import { JlabServer, JLAB_SERVER_NOTE } from "../jlab-client";
import { interleave, median, now } from "../stats";

/** Times `code` on every client `runs` times (interleaved) and checks each got `stdoutLength` chars. */
async function outputRun(context: BenchContext, code: string, runs: number, stdoutLength: number, cellId = context.oursSession.createCell(code)) {
  const check = (client: string, length: number) => {
    if (length !== stdoutLength) throw new Error(`${client}: stdout has ${length} chars, expected ${stdoutLength}`);
  };
  return interleave(runs, {
    floor: async () => {
      const started = now();
      const execution = await context.floor.execute(code);
      const elapsed = now() - started;
      check("floor", execution.stdout.length);
      return [elapsed];
    },
    ours: async () => {
      const started = now();
      const result = await context.oursSession.executeCell(cellId, { timeoutSecs: 300 });
      const elapsed = now() - started;
      check("ours", result.stdout.length);
      return [elapsed];
    },
    jlab: whenJlab(context, async (kernel) => {
      const started = now();
      const execution = await JlabServer.execute(kernel, code);
      const elapsed = now() - started;
      check("@jupyterlab/services", execution.stdout.length);
      return [elapsed];
    }),
  });
}

function printedLength(count: number): number {
  let length = 0;
  for (let i = 0; i < count; i++) length += String(i).length + 1;
  return length;
}

/** 2000 `print(i, flush=True)`: one iopub message each. */
export const printFlushed: Metric = {
  name: "print_flushed",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 2 : 5;
    const samples = await outputRun(context, "for i in range(2000): print(i, flush=True)", runs, printedLength(2000));
    return [
      ratioRow(
        "2000 print(flush=True) to result",
        { ours: median(samples.ours), floor: median(samples.floor), jlab: jlabValue(context, median(samples.jlab)) },
        1.2,
        [...jlabNote(context), `median of ${runs}`, JLAB_SERVER_NOTE],
      ),
    ];
  },
};

/** 100 000 unflushed prints: ipykernel batches them into few stream messages. */
export const printUnflushed: Metric = {
  name: "print_unflushed",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 1 : 3;
    const samples = await outputRun(context, "for i in range(100000): print(i)", runs, printedLength(100_000));
    return [
      ratioRow(
        "100 000 unflushed prints to result",
        { ours: median(samples.ours), floor: median(samples.floor), jlab: jlabValue(context, median(samples.jlab)) },
        1.2,
        [...jlabNote(context), `median of ${runs}`, JLAB_SERVER_NOTE],
      ),
    ];
  },
};

/** One 5 MB stream output, and how much the room's saved document grows per run of it. */
export const bigOutput: Metric = {
  name: "big_output",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 1 : 3;
    const notebookId = context.oursSession.notebookId;
    const code = "print('x'*5_000_000)";
    const cellId = context.oursSession.createCell(code);
    await context.oursSession.flush();
    const before = await context.ours.roomFileSize(notebookId);
    const samples = await outputRun(context, code, runs, 5_000_001, cellId);
    const growthPerRun = ((await context.ours.roomFileSize(notebookId)) - before) / runs;
    // 'x' * 5 MB compresses to almost nothing in Automerge.save; random base64 does not, so it
    // shows whether the payload itself went into the document.
    const randomCell = context.oursSession.createCell("import os, base64; print(base64.b64encode(os.urandom(3_750_000)).decode())");
    await context.oursSession.flush();
    const randomBefore = await context.ours.roomFileSize(notebookId);
    const randomStarted = now();
    const randomResult = await context.oursSession.executeCell(randomCell, { timeoutSecs: 300 });
    const randomMs = now() - randomStarted;
    if (randomResult.stdout.length !== 5_000_001) throw new Error(`ours: random output has ${randomResult.stdout.length} chars`);
    const randomGrowth = (await context.ours.roomFileSize(notebookId)) - randomBefore;
    return [
      ratioRow(
        "one 5 MB output to result",
        { ours: median(samples.ours), floor: median(samples.floor), jlab: jlabValue(context, median(samples.jlab)) },
        1.2,
        [...jlabNote(context), `median of ${runs}`, JLAB_SERVER_NOTE],
      ),
      {
        metric: "document growth per 5 MB output",
        unit: "KB",
        ours: growthPerRun / 1024,
        floor: null,
        jlab: null,
        target: "≤ 2 KB",
        met: growthPerRun <= 2048,
        notes: [`growth of the room file (<cache>/notebook-docs/*.automerge = Automerge.save of the daemon's doc) over ${runs} run(s), divided by runs`],
      },
      {
        metric: "document growth per 5 MB random (incompressible) output",
        unit: "KB",
        ours: randomGrowth / 1024,
        floor: null,
        jlab: null,
        target: "≤ 2 KB",
        met: randomGrowth <= 2048,
        notes: [`print(base64 of 3.75 MB os.urandom), one run, ours only (${randomMs.toFixed(0)} ms to result); same measurement as above`],
      },
    ];
  },
};
