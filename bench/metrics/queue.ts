/** 20 cells queued at once, timed until the last one is done. */
import { peerNote, peerSamples, ratioRow, type BenchContext, type Metric, type Row } from "../context";
import { interleave, median, now } from "../stats";

const CELLS = 20;

export const queuedCells: Metric = {
  name: "queue",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 3 : 15;
    const cellIds = Array.from({ length: CELLS }, () => context.oursSession.createCell("pass"));
    const samples = await interleave(runs, {
      floor: async () => {
        const started = now();
        await Promise.all(Array.from({ length: CELLS }, () => context.floor.execute("pass")));
        return [now() - started];
      },
      ours: async () => {
        const started = now();
        await Promise.all(cellIds.map((cellId) => context.oursSession.executeCell(cellId)));
        return [now() - started];
      },
      peer: () => peerSamples(context, { op: "queue", name: context.peerKernel, n: CELLS }),
    });
    return [
      ratioRow(
        "20 queued cells, all done",
        { ours: median(samples.ours), floor: median(samples.floor), peer: context.peer.available ? median(samples.peer) : null },
        1.2,
        [...peerNote(context), `median of ${runs}; ours: 20 executeCell calls at once (one cell each); floor/peer: 20 execute_requests at once`],
      ),
    ];
  },
};
