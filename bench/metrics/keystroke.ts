/**
 * What a keystroke costs the client: `setSource` appending one character to one cell of a
 * notebook with 100 or 1000 cells, with and without a `cells$` subscriber. `setSource` is
 * synchronous — the Automerge change, every synchronous subscriber (cells$ included) and the
 * sync message to the daemon all run inside it — so its duration is what a UI thread blocks for.
 */
import { randomUUID } from "node:crypto";
import type { Session } from "../../lib/session/session";
import type { BenchContext, Metric, Row } from "../context";
import { median, now, sleep } from "../stats";

/** Typing pace: the daemon's sync reply to one keystroke lands before the next. */
const PAUSE_MS = 5;

async function notebookWith(context: BenchContext, cells: number): Promise<{ session: Session; cellId: string }> {
  const session = context.ours.session(`bench-keystroke-${randomUUID()}`);
  await session.connect();
  let cellId = "";
  for (let i = 0; i < cells; i++) {
    const id = session.createCell(`# cell ${i}\nx_${i} = ${i} * 2\nprint(x_${i})`);
    if (i === Math.floor(cells / 2)) cellId = id;
  }
  await session.flush();
  return { session, cellId };
}

/** Median ms of `setSource` over `keystrokes` appended characters, and client CPU ms per keystroke. */
async function type(session: Session, cellId: string, keystrokes: number): Promise<{ medianMs: number; cpuMs: number }> {
  let source = session.getCell(cellId).source;
  const samples: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < keystrokes; i++) {
    source += "a";
    const started = now();
    session.setSource(cellId, source);
    samples.push(now() - started);
    await sleep(PAUSE_MS);
  }
  await session.flush();
  const cpu = process.cpuUsage(cpuBefore);
  return { medianMs: median(samples), cpuMs: (cpu.user + cpu.system) / 1000 / keystrokes };
}

export const keystroke: Metric = {
  name: "keystroke",
  async run(context: BenchContext): Promise<Row[]> {
    const keystrokes = context.quick ? 100 : 400;
    const rows: Row[] = [];
    const figures = new Map<string, number>();
    for (const cells of [100, 1000]) {
      const { session, cellId } = await notebookWith(context, cells);
      try {
        await type(session, cellId, 20); // warm-up
        for (const subscribed of [false, true]) {
          const subscription = subscribed ? session.cells$.subscribe() : undefined;
          const { medianMs, cpuMs } = await type(session, cellId, keystrokes);
          subscription?.unsubscribe();
          figures.set(`${cells}/${subscribed}`, medianMs);
          const judged = cells === 1000 && subscribed;
          const at100 = figures.get("100/true");
          rows.push({
            metric: `keystroke (setSource), ${cells} cells, ${subscribed ? "with a cells$ subscriber" : "no subscriber"}`,
            unit: "ms",
            ours: medianMs,
            floor: null,
            jlab: null,
            target: judged ? "≤ 1.5× the 100-cell figure" : "reported",
            met: judged && at100 !== undefined ? medianMs <= 1.5 * at100 : null,
            notes: [
              `median of ${keystrokes} keystrokes (one character appended to one cell, ${PAUSE_MS} ms apart); client CPU per keystroke, sync replies included: ${cpuMs.toFixed(2)} ms${context.ours.separate ? "" : " (daemon in this process: its work counted too)"}`,
              ...(judged ? ["target: the issue asks cells$ to cost O(changed cells) per patch; read here as 1000 cells costing at most 1.5× what 100 cells cost"] : []),
            ],
          });
        }
      } finally {
        await context.ours.closeSession(session, false);
      }
    }
    return rows;
  },
};
