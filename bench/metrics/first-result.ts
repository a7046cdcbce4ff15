/**
 * First result in a new notebook: ours with the daemon warm (new session, new room, `1+1`)
 * against the floor's cold start (launch an ipykernel, wait until it answers, run `1+1`).
 */
import { lastValueFrom } from "rxjs";
import { filter, first } from "rxjs/operators";
import { randomUUID } from "node:crypto";
import { FloorKernel } from "../floor-client";
import { peerNote, peerSamples, type BenchContext, type Metric, type Row } from "../context";
import { interleave, median, now } from "../stats";

async function oursFirstResult(context: BenchContext): Promise<number> {
  await context.ours.waitPoolSettled();
  const started = now();
  const session = context.ours.session(`bench-first-${randomUUID()}`);
  try {
    await session.connect();
    const cellId = session.createCell("1+1");
    await lastValueFrom(
      session.execute(cellId, { timeoutSecs: 60 }).pipe(
        filter((event) => event.type === "output" && event.output.output_type === "execute_result"),
        first(),
      ),
    );
    return now() - started;
  } finally {
    await context.ours.closeSession(session);
  }
}

async function floorColdStart(context: BenchContext): Promise<number> {
  const started = now();
  const kernel = await FloorKernel.launch(context.workDir);
  try {
    const launched = now() - started;
    const execution = await kernel.execute("1+1");
    return launched + execution.firstResultMs;
  } finally {
    await kernel.shutdown();
  }
}

/** First `1+1` result in a brand-new notebook; target ≤ 0.15× the floor's cold kernel start. */
export const firstResult: Metric = {
  name: "first_result",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 2 : 5;
    // Warm the daemon: one notebook opened, run and closed, so lazy imports and the pool are done.
    await oursFirstResult(context);
    const pool = await context.ours.waitPoolSettled();
    const samples = await interleave(runs, {
      floor: async () => [await floorColdStart(context)],
      ours: async () => [await oursFirstResult(context)],
      peer: () => peerSamples(context, { op: "cold_start" }),
    });
    const ours = median(samples.ours);
    const floor = median(samples.floor);
    const poolText =
      pool.length === 0
        ? "status().pool was [] (a prewarmed kernel, if the daemon keeps one, is not reported there; warm-up = one notebook opened, run, closed)"
        : `status().pool: ${JSON.stringify(pool)}`;
    return [
      {
        metric: "first result, new notebook (ours warm daemon vs cold kernel)",
        unit: "ms",
        ours,
        floor,
        peer: context.peer.available ? median(samples.peer) : null,
        target: "≤ 0.15× floor",
        met: ours / floor <= 0.15,
        notes: [
          ...peerNote(context),
          `median of ${runs}; ours: new Session → connect → createCell → first execute_result, after warm-up; ${poolText}`,
          "floor/peer: launch ipykernel → ready (kernel_info) → execute 1+1 → execute_result",
        ],
      },
    ];
  },
};
