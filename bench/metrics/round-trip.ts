/**
 * Round trips: `1+1` executed to its result, and a shell request with no code (kernel_info, and
 * complete_request, which ours forwards to the kernel).
 */
import { peerNote, peerSamples, ratioRow, type BenchContext, type Metric, type Row } from "../context";
import { interleave, median, now, p99 } from "../stats";

const BATCH = 10;

/** `1+1` from request to the end of the execution (reply and idle), median and p99. */
export const roundTrip: Metric = {
  name: "roundtrip",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 60 : 300;
    const cellId = context.oursSession.createCell("1+1");
    const oursBatch = async () => {
      const samples: number[] = [];
      for (let i = 0; i < BATCH; i++) {
        const started = now();
        const result = await context.oursSession.executeCell(cellId);
        samples.push(now() - started);
        if (!result.success) throw new Error("ours: 1+1 failed");
      }
      return samples;
    };
    const floorBatch = async () => {
      const samples: number[] = [];
      for (let i = 0; i < BATCH; i++) {
        const started = now();
        await context.floor.execute("1+1");
        samples.push(now() - started);
      }
      return samples;
    };
    const peerBatch = () => peerSamples(context, { op: "execute", name: context.peerKernel, code: "1+1", n: BATCH });
    // Warm-up: JIT, kernel caches, socket buffers.
    await interleave(2, { floor: floorBatch, ours: oursBatch, peer: peerBatch });
    const samples = await interleave(runs / BATCH, { floor: floorBatch, ours: oursBatch, peer: peerBatch });
    const peer = context.peer.available ? samples.peer : null;
    const notes = [...peerNote(context), `${runs} runs each, interleaved in batches of ${BATCH}; ours re-executes one cell (document writes included)`];
    return [
      ratioRow("1+1 round trip, median", { ours: median(samples.ours), floor: median(samples.floor), peer: peer && median(peer) }, 1.15, notes),
      ratioRow("1+1 round trip, p99", { ours: p99(samples.ours), floor: p99(samples.floor), peer: peer && p99(peer) }, 1.15),
    ];
  },
};

/**
 * kernel_info through each client. Ours answers `get_kernel_info` from the daemon's cache
 * (no kernel round trip), so a second row sends complete_request, which does reach the kernel.
 */
export const kernelInfo: Metric = {
  name: "kernel_info",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 60 : 300;
    const batch = (request: () => Promise<unknown>) => async () => {
      const samples: number[] = [];
      for (let i = 0; i < BATCH; i++) {
        const started = now();
        await request();
        samples.push(now() - started);
      }
      return samples;
    };
    const info = await interleave(runs / BATCH, {
      floor: batch(() => context.floor.request("kernel_info_request")),
      ours: batch(() => context.oursSession.kernelInfo()),
      peer: () => peerSamples(context, { op: "kernel_info", name: context.peerKernel, n: BATCH }),
    });
    const complete = await interleave(runs / BATCH, {
      floor: batch(() => context.floor.request("complete_request", { code: "import o", cursor_pos: 8 })),
      ours: batch(() => context.oursSession.complete("import o")),
      peer: () => peerSamples(context, { op: "complete", name: context.peerKernel, code: "import o", n: BATCH }),
    });
    const peer = (samples: number[]) => (context.peer.available ? median(samples) : null);
    return [
      ratioRow("kernel_info round trip, median", { ours: median(info.ours), floor: median(info.floor), peer: peer(info.peer) }, 1.5, [
        "ours: session.kernelInfo() is answered from the daemon's cached kernel_info — client + socket + daemon only, the kernel is NOT asked; floor and peer ask the kernel",
      ]),
      ratioRow("complete_request round trip, median", { ours: median(complete.ours), floor: median(complete.floor), peer: peer(complete.peer) }, 1.5, [
        "a shell request that reaches the kernel through every client (ours: session.complete); target borrowed from kernel_info",
      ]),
    ];
  },
};
