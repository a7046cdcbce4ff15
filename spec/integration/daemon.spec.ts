import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { filter, firstValueFrom } from "rxjs";
import { Daemon } from "../../lib/daemon/daemon";
import { encodeMessage } from "../../lib/protocol/codec";
import { encodeFrame } from "../../lib/protocol/frame";
import { PROTOCOL_VERSION } from "../../lib/protocol/messages";
import { daemonFiles, type DaemonInfo } from "../../lib/transport/paths";
import { Session } from "../../lib/session/session";
import { openUnixConnection } from "../../lib/transport/unix-socket";
import { removeDir, startTestDaemon } from "./harness";

jest.setTimeout(120_000);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-daemon-"));
}

/** Sends raw bytes on a fresh connection; resolves when the daemon closes it. */
function sendRaw(socketPath: string, chunks: Uint8Array[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("the daemon did not close the connection"));
    }, 10_000);
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
    socket.on("error", () => undefined);
    socket.on("connect", () => chunks.forEach((chunk) => socket.write(chunk)));
  });
}

describe("daemon files and lifecycle", () => {
  it("creates its cache dir 0700 and socket 0600 and advertises itself in daemon.json (0600)", async () => {
    const room = await startTestDaemon();
    try {
      const files = daemonFiles(room.cacheDir);
      expect(fs.statSync(room.cacheDir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(room.socketPath).mode & 0o777).toBe(0o600);
      const info = JSON.parse(fs.readFileSync(files.info, "utf8")) as DaemonInfo;
      expect(info).toMatchObject({ endpoint: room.socketPath, pid: process.pid, protocol: PROTOCOL_VERSION });
      // It holds the network face's token: this user only.
      expect(fs.statSync(files.info).mode & 0o777).toBe(0o600);
      expect(info).toMatchObject({ host: "127.0.0.1", url: `http://127.0.0.1:${info.port}/`, token: room.daemon.status().token });
      expect(fs.existsSync(files.lock)).toBe(true);
      expect(fs.readFileSync(files.log, "utf8")).toContain("daemon started");
    } finally {
      await room.dispose();
    }
    expect(fs.existsSync(room.socketPath)).toBe(false);
    removeDir(room.cacheDir);
  });

  it("a second daemon on the same socket fails with a clear message", async () => {
    const room = await startTestDaemon();
    try {
      await expect(Daemon.start({ cacheDir: room.cacheDir, socketPath: room.socketPath })).rejects.toThrow(/already serves/);
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("a stale socket file is replaced", async () => {
    const cacheDir = tempDir();
    const socketPath = path.join(cacheDir, "runtimed.sock");
    // A socket nobody listens on any more.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    await new Promise<void>((resolve) => {
      (server as unknown as { _handle: { close(): void } | null })._handle?.close();
      server.close(() => resolve());
    });
    fs.writeFileSync(socketPath, "");
    const room = await startTestDaemon({ cacheDir });
    try {
      const session = room.session({ notebookId: "after-stale" });
      await session.connect();
      expect(session.isConnected).toBe(true);
    } finally {
      await room.dispose();
      removeDir(cacheDir);
    }
  });

  it("restarting the daemon keeps every notebook's cells, sources and outputs", async () => {
    const cacheDir = tempDir();
    let room = await startTestDaemon({ cacheDir });
    let cellId: string;
    try {
      const session = room.session({ notebookId: "persisted" });
      cellId = session.createCell("print('kept')");
      session.setMetadata("owner", "test");
      await session.executeCell(cellId);
      await session.flush();
    } finally {
      await room.dispose();
    }
    room = await startTestDaemon({ cacheDir });
    try {
      const session = room.session({ notebookId: "persisted" });
      await session.connect();
      expect(session.getCell(cellId!)).toMatchObject({
        source: "print('kept')",
        executionCount: 1,
        outputs: [{ output_type: "stream", name: "stdout", text: "kept\n" }],
      });
      expect(session.getMetadata("owner")).toBe("test");
    } finally {
      await room.dispose();
      removeDir(cacheDir);
    }
  });

  it("a corrupt room file is moved aside and the room starts fresh", async () => {
    const cacheDir = tempDir();
    const room = await startTestDaemon({ cacheDir });
    try {
      const docs = daemonFiles(cacheDir).notebookDocs;
      const { createHash } = await import("node:crypto");
      const file = path.join(docs, createHash("sha256").update("corrupt").digest("hex") + ".automerge");
      fs.writeFileSync(file, Buffer.from("this is not automerge"));
      const session = room.session({ notebookId: "corrupt" });
      await session.connect();
      expect(session.getCells()).toEqual([]);
      expect(fs.readdirSync(docs).some((name) => name.endsWith(".corrupt"))).toBe(true);
      expect(fs.readFileSync(daemonFiles(cacheDir).log, "utf8")).toContain("moved aside");
    } finally {
      await room.dispose();
      removeDir(cacheDir);
    }
  });
});

describe("bad input", () => {
  it("malformed and oversized frames close only that connection", async () => {
    const room = await startTestDaemon();
    try {
      const good = room.session({ notebookId: "bystander" });
      const cellId = good.createCell("1");
      await good.connect();

      // Garbage handshake.
      const reply = await sendRaw(room.socketPath, [encodeFrame(Buffer.from([0xc1, 0xff, 0x00]))]);
      expect(reply.length).toBeGreaterThan(0);
      // Declared frame length over 100 MiB.
      const huge = Buffer.alloc(4);
      huge.writeUInt32BE(200 * 1024 * 1024);
      await sendRaw(room.socketPath, [huge]);
      // Valid handshake, then an oversized request and a bad sync message.
      const handshake = encodeFrame(encodeMessage({ channel: "notebook_sync", notebook_id: "bystander", protocol: PROTOCOL_VERSION }));
      const bigRequest = Buffer.concat([Buffer.from([0x01]), Buffer.alloc(70 * 1024, 0x61)]);
      await sendRaw(room.socketPath, [handshake, encodeFrame(bigRequest)]);
      await sendRaw(room.socketPath, [handshake, encodeFrame(Buffer.from([0x00, 1, 2, 3, 4]))]);
      await sendRaw(room.socketPath, [handshake, encodeFrame(Buffer.from([0x07, 1]))]);

      good.setSource(cellId, "print('unaffected')");
      await good.flush();
      expect(good.isConnected).toBe(true);
      expect((await good.executeCell(cellId)).stdout).toBe("unaffected\n");
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("a request with a bad field gets an error response and the connection stays open", async () => {
    const room = await startTestDaemon();
    try {
      const connection = await openUnixConnection({
        socketPath: room.socketPath,
        handshake: { channel: "notebook_sync", notebook_id: "bad-field", protocol: PROTOCOL_VERSION },
      });
      await expect(
        connection.request({ action: "execute_cell", cell_id: 5 as unknown as string, execution_id: "e", heads: [] }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(connection.request({ action: "get_queue_state" })).resolves.toEqual({ executing: null, queued: [] });
      connection.close();
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("a client of another protocol version gets an error naming both versions", async () => {
    const room = await startTestDaemon();
    try {
      await expect(
        openUnixConnection({ socketPath: room.socketPath, handshake: { channel: "pool", protocol: 99 } }),
      ).rejects.toThrow(new RegExp(`version 99.*version ${PROTOCOL_VERSION}`));
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });
});

describe("auto-start", () => {
  it("connect() starts a detached daemon when nothing answers, and it can be stopped", async () => {
    const cacheDir = tempDir();
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const session = new Session({ notebookId: "autostart", socketPath, cacheDir });
    let pid: number | undefined;
    try {
      await session.connect();
      const info = JSON.parse(fs.readFileSync(daemonFiles(cacheDir).info, "utf8")) as DaemonInfo;
      pid = info.pid;
      expect(pid).not.toBe(process.pid);
      await session.close();
      const pool = await openUnixConnection({ socketPath, handshake: { channel: "pool", protocol: PROTOCOL_VERSION } });
      await pool.request({ action: "shutdown" });
      pool.close();
      for (let i = 0; i < 100 && fs.existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 50));
      expect(fs.existsSync(socketPath)).toBe(false);
    } finally {
      await session.close().catch(() => undefined);
      if (pid) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      removeDir(cacheDir);
    }
  });

  it("autoStart: false fails with DAEMON_UNAVAILABLE and says how to start one", async () => {
    const cacheDir = tempDir();
    const session = new Session({ socketPath: path.join(cacheDir, "none.sock"), autoStart: false });
    await expect(session.connect()).rejects.toMatchObject({ code: "DAEMON_UNAVAILABLE", message: expect.stringContaining("runtimed daemon start") });
    await session.close();
    removeDir(cacheDir);
  });
});

describe("idle rooms", () => {
  it("a room without clients is unloaded after the idle time: kernel stopped, document kept", async () => {
    const cacheDir = tempDir();
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const daemon = await Daemon.start({ cacheDir, socketPath, saveDelayMs: 50, roomIdleSecs: 0.5 });
    const options = { socketPath, cacheDir, autoStart: false, notebookId: "idle-room" };
    try {
      const session = new Session(options);
      const result = await session.run("print('before unload')");
      const pid = (await session.kernelInfo()).pid!;
      await session.close({ shutdownKernel: false });
      const gone = async () => {
        for (let i = 0; i < 100; i++) {
          if (!daemon.status().rooms.some((room) => room.notebook_id === "idle-room")) return true;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return false;
      };
      expect(await gone()).toBe(true);
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
          await new Promise((resolve) => setTimeout(resolve, 100));
        } catch {
          break;
        }
      }
      expect(() => process.kill(pid, 0)).toThrow();
      const back = new Session(options);
      await back.connect();
      expect(back.getCell(result.cellId).outputs).toEqual([{ output_type: "stream", name: "stdout", text: "before unload\n" }]);
      await back.close();
    } finally {
      await daemon.stop();
      removeDir(cacheDir);
    }
  });

  it("a room stays loaded while a queued cell still runs without clients", async () => {
    const cacheDir = tempDir();
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const daemon = await Daemon.start({ cacheDir, socketPath, saveDelayMs: 50, roomIdleSecs: 0.2 });
    const options = { socketPath, cacheDir, autoStart: false, notebookId: "busy-room" };
    try {
      const session = new Session(options);
      const cellId = session.createCell("import time\ntime.sleep(1.5)\nprint('finished alone')");
      await session.queueCell(cellId);
      await session.close({ shutdownKernel: false });
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(daemon.status().rooms.some((room) => room.notebook_id === "busy-room")).toBe(true);
      const back = new Session(options);
      await back.connect();
      const cell = await firstValueFrom(back.cell$(cellId).pipe(filter((c) => c.outputs.length > 0)));
      expect(cell.outputs[0]).toMatchObject({ text: "finished alone\n" });
      await back.close();
    } finally {
      await daemon.stop();
      removeDir(cacheDir);
    }
  });
});
