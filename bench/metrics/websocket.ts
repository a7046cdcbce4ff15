/**
 * The same `1+1` through the daemon's WebSocket (`new Session({ url, token })`) and through its
 * Unix socket, interleaved, in one room: what the network transport costs over the socket.
 */
import { Session } from "../../lib";
import type { BenchContext, Metric, Row } from "../context";
import { interleave, median, now, p99 } from "../stats";

const BATCH = 10;
const TARGET = 1.1;

export const webSocketRoundTrip: Metric = {
  name: "websocket",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 60 : 300;
    const { url, token } = await context.ours.status();
    const overWebSocket = new Session({ url, token, notebookId: context.oursSession.notebookId, reconnect: false });
    try {
      await overWebSocket.connect();
      const socketCell = context.oursSession.createCell("1+1");
      const webSocketCell = overWebSocket.createCell("1+1");
      const batch = (session: Session, cellId: string) => async () => {
        const samples: number[] = [];
        for (let i = 0; i < BATCH; i++) {
          const started = now();
          const result = await session.executeCell(cellId);
          samples.push(now() - started);
          if (!result.success) throw new Error("1+1 failed");
        }
        return samples;
      };
      // `floor` here is the Unix socket: the ratio column reads "WebSocket / socket".
      const clients = { floor: batch(context.oursSession, socketCell), ours: batch(overWebSocket, webSocketCell) };
      await interleave(2, clients);
      const samples = await interleave(runs / BATCH, clients);
      const notes = [
        `ours: a second Session in the same room over the daemon's WebSocket (url + token, TCP_NODELAY); the floor column is this row's baseline, the same Session over the Unix socket, interleaved; ${runs} runs each`,
      ];
      const row = (metric: string, ours: number, socket: number, extra: string[]): Row => ({
        metric,
        unit: "ms",
        ours,
        floor: socket,
        jlab: null,
        target: `≤ ${TARGET}× the Unix socket`,
        met: ours / socket <= TARGET,
        notes: extra,
      });
      return [
        row("1+1 over the WebSocket transport, median", median(samples.ours), median(samples.floor), notes),
        row("1+1 over the WebSocket transport, p99", p99(samples.ours), p99(samples.floor), []),
      ];
    } finally {
      await overWebSocket.close({ shutdownKernel: false });
    }
  },
};
