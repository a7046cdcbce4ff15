/**
 * Round trips: `1+1` executed to its result, and a shell request with no code (kernel_info, and
 * complete_request, which ours forwards to the kernel).
 */
import { jlabNote, jlabValue, ratioRow, whenJlab, type BenchContext, type Metric, type Row } from "../context";
import { JlabServer } from "../jlab-client";
import { processCpuMs } from "../processes";
import { interleave, median, now, p99 } from "../stats";

const BATCH = 10;

/** `1+1` from request to the end of the execution (reply and idle), median and p99. */
export const roundTrip: Metric = {
  name: "roundtrip",
  async run(context: BenchContext): Promise<Row[]> {
    const runs = context.quick ? 60 : 300;
    const cellId = context.oursSession.createCell("1+1");
    // CPU that ours spends per execution, apart from the kernel's: it competes with the kernel
    // for the machine's cores, so it shows in the kernel's own busy time too.
    const cpu = { daemon: 0, client: 0, runs: 0, floor: 0 };
    const oursBatch = async () => {
      const samples: number[] = [];
      const daemonBefore = context.ours.separate ? processCpuMs(context.ours.pid) : 0;
      const clientBefore = process.cpuUsage();
      for (let i = 0; i < BATCH; i++) {
        const started = now();
        const result = await context.oursSession.executeCell(cellId);
        samples.push(now() - started);
        if (!result.success) throw new Error("ours: 1+1 failed");
      }
      const client = process.cpuUsage(clientBefore);
      cpu.client += (client.user + client.system) / 1000;
      if (context.ours.separate) cpu.daemon += processCpuMs(context.ours.pid) - daemonBefore;
      cpu.runs += BATCH;
      return samples;
    };
    const floorBatch = async () => {
      const samples: number[] = [];
      const before = process.cpuUsage();
      for (let i = 0; i < BATCH; i++) {
        const started = now();
        await context.floor.execute("1+1");
        samples.push(now() - started);
      }
      const used = process.cpuUsage(before);
      cpu.floor += (used.user + used.system) / 1000;
      return samples;
    };
    const jlabBatch = whenJlab(context, async (kernel) => {
      const samples: number[] = [];
      for (let i = 0; i < BATCH; i++) {
        const started = now();
        await JlabServer.execute(kernel, "1+1");
        samples.push(now() - started);
      }
      return samples;
    });
    // Warm-up: JIT, kernel caches, socket buffers.
    await interleave(2, { floor: floorBatch, ours: oursBatch, jlab: jlabBatch });
    Object.assign(cpu, { daemon: 0, client: 0, runs: 0, floor: 0 });
    const samples = await interleave(runs / BATCH, { floor: floorBatch, ours: oursBatch, jlab: jlabBatch });
    const cpuNote = context.ours.separate
      ? `CPU per ours execution (kernel excluded; /proc and process.cpuUsage): daemon ${(cpu.daemon / cpu.runs).toFixed(2)} ms, client ${(cpu.client / cpu.runs).toFixed(2)} ms (the floor client: ${(cpu.floor / cpu.runs).toFixed(2)} ms); this CPU shares the cores with the kernel`
      : `CPU per ours execution, daemon and client together (in-process; kernel excluded): ${(cpu.client / cpu.runs).toFixed(2)} ms (the floor client: ${(cpu.floor / cpu.runs).toFixed(2)} ms)`;
    const notes = [
      ...jlabNote(context),
      `${runs} runs each, interleaved in batches of ${BATCH}; from the request to the end of the execution (reply and idle; ours: executeCell resolved); ours re-executes one cell (document writes included)`,
      "@jupyterlab/services: jupyter_server 1.23 does not set TCP_NODELAY on kernel WebSockets, so Nagle's algorithm against the client's delayed ACK adds ~40 ms to each small round trip (with set_nodelay(True) patched in, 1+1 took ~12-20 ms here); the figure is the stock server",
    ];
    return [
      ratioRow("1+1 round trip, median", { ours: median(samples.ours), floor: median(samples.floor), jlab: jlabValue(context, median(samples.jlab)) }, 1.15, notes),
      ratioRow("1+1 round trip, p99", { ours: p99(samples.ours), floor: p99(samples.floor), jlab: jlabValue(context, p99(samples.jlab)) }, 1.5, [cpuNote]),
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
      jlab: whenJlab(context, (kernel) => batch(() => kernel.requestKernelInfo())()),
    });
    const complete = await interleave(runs / BATCH, {
      floor: batch(() => context.floor.request("complete_request", { code: "import o", cursor_pos: 8 })),
      ours: batch(() => context.oursSession.complete("import o")),
      jlab: whenJlab(context, (kernel) => batch(() => kernel.requestComplete({ code: "import o", cursor_pos: 8 }))()),
    });
    return [
      ratioRow("kernel_info round trip, median", { ours: median(info.ours), floor: median(info.floor), jlab: jlabValue(context, median(info.jlab)) }, 1.5, [
        "ours: session.kernelInfo() is answered from the daemon's cached kernel_info — client + socket + daemon only, the kernel is NOT asked; floor and @jupyterlab/services ask the kernel",
      ]),
      ratioRow("complete_request round trip, median", { ours: median(complete.ours), floor: median(complete.floor), jlab: jlabValue(context, median(complete.jlab)) }, 1.5, [
        "a shell request that reaches the kernel through every client (ours: session.complete); target borrowed from kernel_info",
      ]),
    ];
  },
};
