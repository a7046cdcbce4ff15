/** 20 cells of `x = 1` queued at once, timed until the last one is done. */
import { JlabServer } from "../jlab-client";
import { jlabNote, jlabValue, ratioRow, whenJlab, type BenchContext, type Metric, type Row } from "../context";
import { interleave, median, now } from "../stats";

const CELLS = 20;
const CODE = "x = 1";

export const queuedCells: Metric = {
  name: "queue",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 3 : 15;
    const cellIds = Array.from({ length: CELLS }, () => context.oursSession.createCell(CODE));
    const samples = await interleave(runs, {
      floor: async () => {
        const started = now();
        await Promise.all(Array.from({ length: CELLS }, () => context.floor.execute(CODE)));
        return [now() - started];
      },
      ours: async () => {
        const started = now();
        await Promise.all(cellIds.map((cellId) => context.oursSession.executeCell(cellId)));
        return [now() - started];
      },
      jlab: whenJlab(context, async (kernel) => {
        const started = now();
        await Promise.all(Array.from({ length: CELLS }, () => JlabServer.execute(kernel, CODE)));
        return [now() - started];
      }),
    });
    return [
      ratioRow(
        `${CELLS} queued \`${CODE}\`, all done`,
        { ours: median(samples.ours), floor: median(samples.floor), jlab: jlabValue(context, median(samples.jlab)) },
        1.2,
        [
          ...jlabNote(context),
          `median of ${runs}; ours: ${CELLS} executeCell calls at once (one cell each); floor and @jupyterlab/services: ${CELLS} execute_requests at once, each awaited to reply + idle`,
        ],
      ),
    ];
  },
};
