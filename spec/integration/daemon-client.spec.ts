import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DaemonClient } from "../../lib/transport/daemon-client";
import { PACKAGE_VERSION } from "../../lib/protocol/version";
import { useTestDaemon } from "./harness";

jest.setTimeout(120_000);

const testDaemon = useTestDaemon();

describe("DaemonClient", () => {
  it("pings, reports status and lists rooms with their kernels", async () => {
    const client = new DaemonClient({ socketPath: testDaemon().socketPath });
    await client.ping();
    expect(await client.isRunning()).toBe(true);
    const session = testDaemon().session({ notebookId: "listed-room" });
    await session.run("1");
    const status = await client.status();
    expect(status).toMatchObject({ version: PACKAGE_VERSION, pid: process.pid, socketPath: testDaemon().socketPath, cacheDir: testDaemon().cacheDir });
    expect(status.uptimeSecs).toBeGreaterThan(0);
    expect(status.pool.map((row) => row.backend)).toEqual(expect.arrayContaining(["venv"]));
    const rooms = await client.listRooms();
    expect(rooms).toContainEqual({ notebookId: "listed-room", clients: 1, kernelStatus: "idle", envSource: expect.any(String) });
  });

  it("flushPool empties and refills the pool", async () => {
    const client = new DaemonClient({ socketPath: testDaemon().socketPath });
    await client.flushPool();
    const refilled = async () => {
      for (let i = 0; i < 300; i++) {
        const pool = (await client.status()).pool;
        if (pool.some((row) => row.backend === "venv" && row.ready > 0)) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    };
    expect(await refilled()).toBe(true);
  });

  it("says no daemon is running where none is, without starting one", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-client-"));
    try {
      const client = new DaemonClient({ socketPath: path.join(dir, "none.sock") });
      expect(await client.isRunning()).toBe(false);
      await expect(client.status()).rejects.toMatchObject({ code: "DAEMON_UNAVAILABLE" });
      expect(fs.existsSync(path.join(dir, "none.sock"))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shutdown stops the daemon", async () => {
    const client = new DaemonClient({ socketPath: testDaemon().socketPath });
    await client.shutdown();
    await testDaemon().daemon.stopped;
    expect(await client.isRunning()).toBe(false);
  });
});
