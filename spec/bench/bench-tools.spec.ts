/**
 * The benchmark's pure parts and its wire tap — not the benchmark itself (`npm run bench`, never
 * part of `npm test`, and never judged on timing here).
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { encodeMessage } from "../../lib/protocol/codec";
import { FramedSocket } from "../../lib/transport/framed-socket";
import { FrameType } from "../../lib/protocol/messages";
import { profileTimes, summarizeProfile, type CpuProfile } from "../../bench/profile-summary";
import { behindJlab, renderTable } from "../../bench/table";
import { OURS_STEPS, timeline } from "../../bench/trace/breakdown";
import { installTap, isoToEpochMs, type TapEvent } from "../../bench/trace/tap";
import type { Row } from "../../bench/context";

/** root → main → work (self 3 samples) / → (idle), with 100 µs between samples. */
function syntheticProfile(): CpuProfile {
  const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });
  return {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 4] },
      { id: 2, callFrame: frame("main", `file://${path.resolve(__dirname, "../../lib/daemon/room.ts")}`), children: [3] },
      { id: 3, callFrame: frame("work", "file:///x/node_modules/@automerge/automerge/dist/index.js") },
      { id: 4, callFrame: frame("(idle)") },
    ],
    startTime: 1000,
    endTime: 1700,
    samples: [3, 3, 2, 3, 4, 4, 4],
    timeDeltas: [0, 100, 100, 100, 100, 100, 100],
  };
}

describe("profile-summary", () => {
  it("attributes each sample the time until the next one, as self time and to every ancestor as total time", () => {
    const { self, total, areas, windowUs } = profileTimes(syntheticProfile());
    expect(windowUs).toBe(600);
    expect(self.get("work @automerge/automerge:1")).toBe(300);
    expect(self.get("main lib/daemon/room.ts")).toBe(100);
    expect(total.get("main lib/daemon/room.ts")).toBe(400);
    expect(areas.get("@automerge/automerge")).toBe(300);
  });

  it("keeps only the samples inside a window when one is given", () => {
    const { self, windowUs } = profileTimes(syntheticProfile(), { from: 1150, to: 1350 });
    expect(windowUs).toBe(200);
    expect(self.get("main lib/daemon/room.ts")).toBe(100);
    expect(self.get("work @automerge/automerge:1")).toBe(100);
  });

  it("prints busy time per execution and leaves idle out of the ranking", () => {
    const text = summarizeProfile(syntheticProfile(), { per: 2 });
    expect(text).toContain("busy (not idle)      0.4 ms = 200 µs per execution over 2");
    expect(text).not.toMatch(/\(idle\)\n/);
  });
});

describe("the wire tap", () => {
  it("reads ipykernel's header.date with its microseconds", () => {
    expect(isoToEpochMs("2026-12-01T14:24:13.123456Z")).toBeCloseTo(Date.parse("2026-12-01T14:24:13.123Z") + 0.456, 6);
    expect(isoToEpochMs("2026-12-01T14:24:13.5+00:00")).toBe(Date.parse("2026-12-01T14:24:13.500Z"));
  });

  it("records protocol frames written and read over a real Unix socket, decoded by kind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-tap-"));
    const socketPath = path.join(dir, "s.sock");
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const tap = installTap();
    try {
      const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
      const client = net.connect(socketPath);
      const received = accepted.then(
        (socket) =>
          new Promise<void>((resolve) => {
            let frames = 0;
            new FramedSocket(socket).onFrame = () => ++frames === 3 && resolve();
          }),
      );
      await new Promise((resolve) => client.once("connect", resolve));
      const framed = new FramedSocket(client);
      framed.sendTyped(FrameType.Request, encodeMessage({ id: 1, action: "execute_cell", cell_id: "c" }));
      framed.sendTyped(FrameType.Broadcast, encodeMessage({ event: "kernel_status", status: "idle" }));
      framed.sendTyped(FrameType.Sync, new Uint8Array([1, 2, 3]));
      await received;
      client.destroy();
      (await accepted).destroy();
    } finally {
      tap.uninstall();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const events = tap.decode().map(({ dir, what }) => `${dir} ${what}`);
    expect(events.filter((event) => event.startsWith("out"))).toEqual(["out request execute_cell", "out broadcast kernel_status idle", "out sync"]);
    expect(events.filter((event) => event.startsWith("in"))).toEqual(["in request execute_cell", "in broadcast kernel_status idle", "in sync"]);
  });

  it("puts each step at the first matching event inside each run's window, as a median over runs", () => {
    const event = (at: number, side: "client" | "daemon", dir: TapEvent["dir"], what: string, kernelAt?: number) => ({ side, event: { at, dir, what, bytes: 1, kernelAt } });
    const all = [
      event(10.5, "client", "out", "request execute_cell"),
      event(11, "daemon", "in", "request execute_cell"),
      event(13, "daemon", "in", "zmq status busy", 12),
      event(20.5, "client", "out", "request execute_cell"),
      event(21.5, "daemon", "in", "request execute_cell"),
      event(25, "daemon", "in", "zmq status busy", 22),
    ];
    const events = {
      client: all.filter((e) => e.side === "client").map((e) => e.event),
      daemon: all.filter((e) => e.side === "daemon").map((e) => e.event),
    };
    const rows = timeline(OURS_STEPS, [{ start: 10, end: 15 }, { start: 20, end: 26 }], events);
    const at = (label: string) => rows.find((row) => row.label.startsWith(label))!;
    expect(at("client → execute_cell").at).toBe(0.5);
    expect(at("daemon ← execute_cell").at).toBe(1);
    expect(at("kernel: status busy")).toMatchObject({ at: 2, seen: 2 });
    expect(at("kernel: execute_result").seen).toBe(0);
    expect(rows.at(-1)).toMatchObject({ label: "result in the caller's hands", at: 5 });
  });
});

describe("the table", () => {
  const row = (ours: number | null, jlab: number | null): Row => ({ metric: "m", unit: "ms", ours, floor: 2, jlab, target: "t", met: null, notes: ["why"] });

  it("says whether ours is behind @jupyterlab/services, and nothing when either figure is missing", () => {
    expect(behindJlab(row(3, 2))).toBe("YES");
    expect(behindJlab(row(1, 2))).toBe("no");
    expect(behindJlab(row(1, null))).toBe("–");
  });

  it("prints the three clients, ours/floor and numbered notes", () => {
    const text = renderTable([row(3, 4)]);
    expect(text).toContain("| ours    | floor   | @jupyterlab/services | ours/floor |");
    expect(text).toContain("| 3.00 ms | 2.00 ms | 4.00 ms              | 1.50×      |");
    expect(text).toContain("[1] why");
  });
});
