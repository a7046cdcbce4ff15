/**
 * Edit propagation: 20 sessions in one room; one sets a cell's source, and the time until each
 * of the other 19 sees it on `cell$` is one sample. Only ours has shared documents.
 */
import { randomUUID } from "node:crypto";
import { firstValueFrom } from "rxjs";
import { filter } from "rxjs/operators";
import type { Session } from "../../lib/session/session";
import type { BenchContext, Metric, Row } from "../context";
import { now, p99, median, sleep } from "../stats";

const CLIENTS = 20;

export const editPropagation: Metric = {
  name: "propagation",
  async run(context: BenchContext): Promise<Row[]> {
    const edits = context.quick ? 20 : 100;
    const notebookId = `bench-propagation-${randomUUID()}`;
    const sessions: Session[] = [];
    try {
      for (let i = 0; i < CLIENTS; i++) sessions.push(context.ours.session(notebookId));
      await Promise.all(sessions.map((session) => session.connect()));
      const [writer, ...readers] = sessions as [Session, ...Session[]];
      const cellId = writer.createCell("");
      await writer.flush();
      await Promise.all(readers.map((reader) => firstValueFrom(reader.cells$.pipe(filter((cells) => cells.some((cell) => cell.id === cellId))))));
      let expected = "";
      let sentAt = 0;
      let arrivals: number[] = [];
      let waiting = 0;
      let allArrived: () => void = () => undefined;
      const subscriptions = readers.map((reader) =>
        reader.cell$(cellId).subscribe((cell) => {
          if (cell.source !== expected || expected === "") return;
          arrivals.push(now() - sentAt);
          if (--waiting === 0) allArrived();
        }),
      );
      const samples: number[] = [];
      try {
        for (let edit = 0; edit < edits; edit++) {
          arrivals = [];
          waiting = readers.length;
          const done = new Promise<void>((resolve) => (allArrived = resolve));
          expected = `x = ${edit}`;
          sentAt = now();
          writer.setSource(cellId, expected);
          await Promise.race([done, sleep(10_000).then(() => Promise.reject(new Error(`edit ${edit} did not reach every reader in 10 s`)))]);
          samples.push(...arrivals);
          await sleep(5);
        }
      } finally {
        for (const subscription of subscriptions) subscription.unsubscribe();
      }
      return [
        {
          metric: "edit propagation, 20 clients in a room, p50",
          unit: "ms",
          ours: median(samples),
          floor: null,
          peer: null,
          target: "(p99 is judged)",
          met: null,
          notes: [],
        },
        {
          metric: "edit propagation, 20 clients in a room, p99",
          unit: "ms",
          ours: p99(samples),
          floor: null,
          peer: null,
          target: "< 10 ms",
          met: p99(samples) < 10,
          notes: [
            `${edits} edits × ${CLIENTS - 1} readers; writer.setSource → each reader's cell$ emits the new source. Daemon, writer and all 19 readers share one Node process and event loop (pessimistic: their work is serialised)`,
          ],
        },
      ];
    } finally {
      await Promise.all(sessions.map((session) => context.ours.closeSession(session, false).catch(() => undefined)));
    }
  },
};
