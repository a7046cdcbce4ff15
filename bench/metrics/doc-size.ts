/** Document size after a cell printing 10 lines has run 1000 times (history must stay bounded). */
import { randomUUID } from "node:crypto";
import type { BenchContext, Metric, Row } from "../context";

export const documentSize: Metric = {
  name: "doc_size",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 100 : 1000;
    const notebookId = `bench-docsize-${randomUUID()}`;
    const session = context.ours.session(notebookId);
    try {
      await session.connect();
      const cellId = session.createCell("for i in range(10): print('line', i)");
      for (let run = 0; run < runs; run++) {
        const result = await session.executeCell(cellId);
        if (!result.success) throw new Error(`run ${run} failed`);
      }
      const bytes = await context.ours.roomFileSize(notebookId);
      const projected = runs === 1000 ? "" : ` (quick: ${runs} runs only)`;
      return [
        {
          metric: `document size after ${runs} runs of a 10-line cell`,
          unit: "KB",
          ours: bytes / 1024,
          floor: null,
          jlab: null,
          target: "< 1024 KB",
          met: bytes < 1024 * 1024,
          notes: [`room file size (Automerge.save of the daemon's doc)${projected}`],
        },
      ];
    } finally {
      await context.ours.closeSession(session);
    }
  },
};
