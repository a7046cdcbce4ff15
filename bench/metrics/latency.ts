/**
 * Output latency: from `print(..., flush=True)` in the kernel to the output reaching a
 * subscriber. The kernel prints its own wall clock; each client notes when the text arrives
 * (same machine, same clock).
 */
import { filter, firstValueFrom } from "rxjs";
import { JlabServer } from "../jlab-client";
import { jlabNote, jlabValue, whenJlab, type BenchContext, type Metric, type Row } from "../context";
import { interleave, median, p99 } from "../stats";

const PRINTS = 10;
// Each print carries time.time() in ms; the sleep keeps prints apart so each is its own message.
const CODE = `import time\nfor _ in range(${PRINTS}):\n    print(repr(time.time() * 1000), flush=True)\n    time.sleep(0.02)`;

function latencies(arrivals: { atEpochMs: number; text: string }[]): number[] {
  const samples: number[] = [];
  for (const { atEpochMs, text } of arrivals) {
    for (const line of text.split("\n")) {
      const printedAt = Number.parseFloat(line);
      if (Number.isFinite(printedAt)) samples.push(atEpochMs - printedAt);
    }
  }
  return samples;
}

export const outputLatency: Metric = {
  name: "latency",
  async run(context: BenchContext): Promise<Row[]> {
    const rounds = context.quick ? 3 : 10;
    const session = context.oursSession;
    const cellId = session.createCell(CODE);
    const ours = async () => {
      const arrivals: { atEpochMs: number; text: string }[] = [];
      const seen = new Map<number, number>();
      const subscription = session.events$.subscribe((event) => {
        if (event.type !== "output" || event.cellId !== cellId || event.output.output_type !== "stream") return;
        const text = String(event.output.text);
        // Output events carry the whole merged stream; only the new part arrived now.
        arrivals.push({ atEpochMs: performance.timeOrigin + performance.now(), text: text.slice(seen.get(event.index) ?? 0) });
        seen.set(event.index, text.length);
      });
      const done = firstValueFrom(session.events$.pipe(filter((e) => e.type === "execution_done" && e.cellId === cellId)));
      await session.executeCell(cellId);
      await done;
      subscription.unsubscribe();
      return latencies(arrivals);
    };
    const floor = async () => latencies((await context.floor.execute(CODE)).streamArrivals);
    const jlab = whenJlab(context, async (kernel) => latencies((await JlabServer.execute(kernel, CODE)).streamArrivals));
    const samples = await interleave(rounds, { floor, ours, jlab });
    const notes = [
      ...jlabNote(context),
      `${rounds} rounds of ${PRINTS} flushed prints; kernel wall clock at print vs arrival at the subscriber (ours: events$ output; @jupyterlab/services: future.onIOPub)`,
    ];
    // The issue asks for this figure, not for a target: reported, not judged.
    const row = (metric: string, pick: (values: number[]) => number, rowNotes: string[]): Row => ({
      metric, unit: "ms", ours: pick(samples.ours), floor: pick(samples.floor), jlab: jlabValue(context, pick(samples.jlab)), target: "reported", met: null, notes: rowNotes,
    });
    return [row("print(flush=True) → output event, median", median, notes), row("print(flush=True) → output event, p99", p99, [])];
  },
};
