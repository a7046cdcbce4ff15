import * as net from "node:net";
import { encodeMessage } from "../../lib/protocol/codec";
import { encodeFrame } from "../../lib/protocol/frame";
import { PROTOCOL_VERSION } from "../../lib/protocol/messages";
import { Session } from "../../lib/session/session";
import { attacks, frameCount, runAttack, type Attack } from "./hostile-frames";
import { isRunning, makeTempDir, removeDaemonProcess, residentMiB, spawnDaemonProcess, waitFor, within, type DaemonProcess } from "./processes";

jest.setTimeout(300_000);

const TOTAL_FRAMES = 10_000;
const CONCURRENT_CONNECTIONS = 16;
const SHARED_ROOM = "hostile-shared-room";
const RSS_GROWTH_LIMIT_MIB = 150;
/** Longer than the daemon should wait on a client whose backlog is over its limit and not draining. */
const STALL_GRACE_MS = 8_000;

let cacheDir: string;
let daemon: DaemonProcess;
const sessions: Session[] = [];

beforeAll(async () => {
  cacheDir = makeTempDir("hostile");
  daemon = await spawnDaemonProcess(cacheDir);
});

afterAll(async () => {
  await Promise.all(sessions.map((session) => session.close({ shutdownKernel: true }).catch(() => undefined)));
  await removeDaemonProcess(daemon, cacheDir);
});

function session(notebookId: string): Session {
  const opened = new Session({ notebookId, socketPath: daemon.socketPath, cacheDir, autoStart: false });
  sessions.push(opened);
  return opened;
}

/** Runs attacks in rotation, `CONCURRENT_CONNECTIONS` at a time, until `totalFrames` were sent. */
async function barrage(list: Attack[], totalFrames: number): Promise<{ frames: number; connections: number; closedByDaemon: number }> {
  let frames = 0;
  let connections = 0;
  let closedByDaemon = 0;
  let next = 0;
  const worker = async () => {
    while (frames < totalFrames) {
      const attack = list[next++ % list.length]!;
      frames += frameCount(attack);
      connections++;
      if ((await runAttack(daemon.socketPath, attack, 100)).closedByDaemon) closedByDaemon++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_CONNECTIONS }, worker));
  return { frames, connections, closedByDaemon };
}

/** Pings the daemon on the pool channel: proof it still serves new clients. */
function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(daemon.socketPath);
    const timer = setTimeout(() => done(false), 5000);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on("error", () => done(false));
    socket.on("data", (chunk: Buffer) => done(chunk.length > 4));
    socket.once("connect", () => socket.write(encodeFrame(encodeMessage({ channel: "pool", protocol: PROTOCOL_VERSION }))));
  });
}

describe("a hostile client", () => {
  it(`sends ${TOTAL_FRAMES} garbage, truncated, oversized, wrong-type and out-of-order frames: the daemon stays up, sessions in the same room and another room keep working, memory stays bounded`, async () => {
    const neighbour = session(SHARED_ROOM);
    const bystander = session("hostile-bystander-room");
    await Promise.all([neighbour.connect(), bystander.connect()]);
    const neighbourCell = neighbour.createCell("x = 'before the barrage'");
    const bystanderCell = bystander.createCell("y = 'before the barrage'");
    expect((await neighbour.executeCell(neighbourCell, { timeoutSecs: 60 })).success).toBe(true);
    expect((await bystander.executeCell(bystanderCell, { timeoutSecs: 60 })).success).toBe(true);
    const rssBefore = residentMiB(daemon.pid);

    const started = Date.now();
    const { frames, connections, closedByDaemon } = await within("the barrage", barrage(attacks(SHARED_ROOM, "hostile-own-room"), TOTAL_FRAMES), 90_000);
    const barrageMs = Date.now() - started;
    expect(frames).toBeGreaterThanOrEqual(TOTAL_FRAMES);
    expect(isRunning(daemon.pid)).toBe(true);
    expect(await ping()).toBe(true);

    // Both well-behaved sessions are still connected and still work, documents intact.
    expect(neighbour.isConnected && bystander.isConnected).toBe(true);
    expect(neighbour.getCell(neighbourCell).source).toBe("x = 'before the barrage'");
    const neighbourAfter = await within("a cell in the attacked room", neighbour.run("print(x.replace('before', 'after'))", { timeoutSecs: 30 }), 40_000);
    expect(neighbourAfter.stdout).toBe("after the barrage\n");
    const bystanderAfter = await within("a cell in another room", bystander.run("print(y.replace('before', 'after'))", { timeoutSecs: 30 }), 40_000);
    expect(bystanderAfter.stdout).toBe("after the barrage\n");
    await neighbour.sync();
    expect(neighbour.getCells().map((cell) => cell.id)).toEqual([neighbourCell, neighbourAfter.cellId]);

    const rssAfter = residentMiB(daemon.pid);
    process.stdout.write(
      `hostile barrage: ${frames} frames over ${connections} connections in ${barrageMs} ms, ${closedByDaemon} closed by the daemon; daemon RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MiB\n`,
    );
    expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
    expect(daemon.stderr()).toBe("");
  });

  it("announcing 80 MiB frames before the handshake on 8 connections does not make the daemon buffer them", async () => {
    const rssBefore = residentMiB(daemon.pid);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const sockets: net.Socket[] = [];
    let peak = rssBefore;
    try {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const socket = net.connect(daemon.socketPath);
          sockets.push(socket);
          socket.on("error", () => undefined);
          const closed = new Promise((resolve) => socket.once("close", resolve));
          await new Promise((resolve) => socket.once("connect", resolve));
          const header = Buffer.alloc(4);
          header.writeUInt32BE(80 * 1024 * 1024 + 16);
          socket.write(header);
          // A daemon that refuses the frame at its header hangs up; stop writing then.
          for (let sent = 0; sent < 80 && !socket.destroyed && socket.writable; sent++) {
            if (!socket.write(chunk)) {
              const drained = new Promise((resolve) => socket.once("drain", resolve));
              await Promise.race([drained, closed]);
            }
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      peak = residentMiB(daemon.pid);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    process.stdout.write(`8 x 80 MiB pre-handshake frames: daemon RSS ${rssBefore.toFixed(0)} -> ${peak.toFixed(0)} MiB\n`);
    expect(isRunning(daemon.pid)).toBe(true);
    expect(await ping()).toBe(true);
    expect(peak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
  });

  it("a client in the room that never reads is not sent an unbounded backlog while a cell prints 64 MB", async () => {
    const writer = session(SHARED_ROOM);
    await writer.connect();
    const stalled = net.connect(daemon.socketPath);
    let received = 0;
    let closedByDaemon = false;
    try {
      stalled.on("error", () => undefined);
      stalled.on("close", () => (closedByDaemon = true));
      await new Promise((resolve) => stalled.once("connect", resolve));
      stalled.write(encodeFrame(encodeMessage({ channel: "notebook_sync", notebook_id: SHARED_ROOM, protocol: PROTOCOL_VERSION })));
      stalled.on("data", (chunk: Buffer) => (received += chunk.length));
      stalled.pause();
      const rssBefore = residentMiB(daemon.pid);
      // Generous: merging a 64 MB stream is slow on a loaded 2-core machine; this test is about the backlog.
      const result = await writer.run("for i in range(64):\n    print('z' * 1_000_000, flush=True)", { timeoutSecs: 240 });
      expect(result.success).toBe(true);
      const rssAfter = residentMiB(daemon.pid);
      // Give the daemon time to give up on a client that has not read for seconds, then read
      // whatever it still holds for us.
      await new Promise((resolve) => setTimeout(resolve, STALL_GRACE_MS));
      stalled.resume();
      let last = -1;
      await waitFor("the stalled client to drain", () => {
        const settled = received === last || closedByDaemon;
        last = received;
        return settled;
      }, 30_000).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.stdout.write(
        `a stalled client while a cell printed 64 MB: daemon RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MiB, backlog delivered ${(received / 1e6).toFixed(1)} MB, closed by the daemon: ${closedByDaemon}\n`,
      );
      expect(received).toBeLessThan(32_000_000);
    } finally {
      stalled.destroy();
    }
    expect(writer.isConnected).toBe(true);
  });
});
