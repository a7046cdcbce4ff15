import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KernelPool, type WarmKernel } from "../../lib/daemon/kernel-pool";
import { Logger } from "../../lib/daemon/logger";
import { Kernel } from "../../lib/kernel/kernel";
import { pythonKernelSpec } from "../../lib/kernel/kernelspec";
import { RuntimedError } from "../../lib/protocol/errors";

jest.setTimeout(60_000);

const PYTHON = "/usr/bin/python3";

let connectionDir: string;
const kernels: Kernel[] = [];
const logger = new Logger(undefined);

beforeAll(() => {
  connectionDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-kernel-pool-"));
});

afterEach(async () => {
  await Promise.all(kernels.splice(0).map((kernel) => kernel.shutdown({ graceMs: 0 })));
});

afterAll(() => {
  fs.rmSync(connectionDir, { recursive: true, force: true });
});

/** A pool over real ipykernels, recording what it launched and released. */
function poolOfRealKernels(options: { failLaunches?: number } = {}) {
  const launched: WarmKernel[] = [];
  const released: WarmKernel[] = [];
  let failuresLeft = options.failLaunches ?? 0;
  let attempts = 0;
  const pool = new KernelPool({
    logger,
    launch: async () => {
      attempts += 1;
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new RuntimedError("KERNEL_FAILED", "this interpreter is broken");
      }
      const kernel = await Kernel.launch({ spec: pythonKernelSpec(PYTHON), connectionDir });
      kernels.push(kernel);
      const warm = { kernel, env: { python: PYTHON, dir: connectionDir, backend: "venv" as const }, envSource: "venv:prewarmed" };
      launched.push(warm);
      return warm;
    },
    release: async (warm) => {
      released.push(warm);
    },
  });
  return { pool, launched, released, attempts: () => attempts };
}

async function eventually(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("KernelPool", () => {
  it("keeps a running kernel ready, hands it out, and starts a replacement", async () => {
    const { pool, launched } = poolOfRealKernels();
    try {
      pool.start();
      await eventually(() => pool.contents().ready === 1, "a warm kernel");
      expect(pool.contents()).toEqual({ backend: "kernel", ready: 1, building: 0 });

      const warm = await pool.take();
      expect(warm?.kernel).toBe(launched[0]!.kernel);
      expect(warm?.kernel.alive).toBe(true);
      expect(pool.contents()).toEqual({ backend: "kernel", ready: 0, building: 1 });
      const { reply } = warm!.kernel.executeRequest("1 + 1");
      expect((await reply).content.status).toBe("ok");

      await eventually(() => pool.contents().ready === 1, "the replacement");
      expect(launched).toHaveLength(2);
    } finally {
      await pool.close();
    }
    // Closing stops the pooled kernel but not the one handed out.
    expect(launched[1]!.kernel.alive).toBe(false);
    expect(launched[0]!.kernel.alive).toBe(true);
  });

  it("a take while the kernel is still starting waits for it", async () => {
    const { pool, launched } = poolOfRealKernels();
    try {
      pool.start();
      expect(pool.contents().building).toBe(1);
      const warm = await pool.take();
      expect(warm?.kernel).toBe(launched[0]!.kernel);
    } finally {
      await pool.close();
    }
  });

  it("replaces a pooled kernel that dies and releases its environment", async () => {
    const { pool, launched, released } = poolOfRealKernels();
    try {
      pool.start();
      await eventually(() => pool.contents().ready === 1, "a warm kernel");
      const first = launched[0]!;
      process.kill(first.kernel.pid, "SIGKILL");
      await eventually(() => launched.length === 2 && pool.contents().ready === 1, "a replacement kernel");
      expect(released).toContain(first);
      const warm = await pool.take();
      expect(warm?.kernel).toBe(launched[1]!.kernel);
    } finally {
      await pool.close();
    }
  });

  it("stops retrying after failed launches until someone takes again", async () => {
    const { pool, attempts } = poolOfRealKernels({ failLaunches: 3 });
    try {
      pool.start();
      await eventually(() => attempts() === 2 && pool.contents().building === 0, "two failed launches");
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(attempts()).toBe(2);
      expect(pool.contents()).toEqual({ backend: "kernel", ready: 0, building: 0 });

      // A take tries again (third failure), then the refill after it succeeds.
      expect(await pool.take()).toBeUndefined();
      expect(attempts()).toBe(4);
      await eventually(() => pool.contents().ready === 1, "a warm kernel after the failures");
    } finally {
      await pool.close();
    }
  });

  it("flush shuts the pooled kernel down and starts a fresh one; close leaves nothing running", async () => {
    const { pool, launched, released } = poolOfRealKernels();
    try {
      pool.start();
      await eventually(() => pool.contents().ready === 1, "a warm kernel");
      await pool.flush();
      expect(launched[0]!.kernel.alive).toBe(false);
      expect(released).toEqual([launched[0]]);
      await eventually(() => pool.contents().ready === 1, "a fresh kernel");
    } finally {
      await pool.close();
    }
    expect(launched.every((warm) => !warm.kernel.alive)).toBe(true);
    expect(pool.contents()).toEqual({ backend: "kernel", ready: 0, building: 0 });
    expect(await pool.take()).toBeUndefined();
  });
});
