import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { endpoint, findFreePorts, writeConnectionFile } from "../../lib/kernel/connection-file";

describe("connection files", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "runtimed-conn-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test("findFreePorts returns distinct loopback ports", async () => {
    const ports = await findFreePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) expect(port).toBeGreaterThan(0);
  });

  test("a connection file is written 0600 in a 0700 directory with five ports and a fresh key", async () => {
    const directory = join(root, "kernels");
    const first = await writeConnectionFile(directory, "python3");
    const second = await writeConnectionFile(directory, "python3");
    try {
      expect((await stat(directory)).mode & 0o777).toBe(0o700);
      expect((await stat(first.path)).mode & 0o777).toBe(0o600);
      const onDisk: unknown = JSON.parse(await readFile(first.path, "utf8"));
      expect(onDisk).toEqual(first.info);
      const { info } = first;
      expect(info).toMatchObject({ transport: "tcp", ip: "127.0.0.1", signature_scheme: "hmac-sha256", kernel_name: "python3" });
      const ports = [info.shell_port, info.iopub_port, info.stdin_port, info.control_port, info.hb_port];
      expect(new Set(ports).size).toBe(5);
      expect(info.key).toMatch(/^[0-9a-f]{64}$/);
      expect(second.info.key).not.toBe(info.key);
      expect(second.path).not.toBe(first.path);
      expect(endpoint(info, "shell_port")).toBe(`tcp://127.0.0.1:${info.shell_port}`);
    } finally {
      await first.dispose();
      await second.dispose();
    }
  });

  test("dispose removes the file and may be called twice", async () => {
    const file = await writeConnectionFile(root);
    await file.dispose();
    expect(existsSync(file.path)).toBe(false);
    await file.dispose();
    file.disposeSync();
  });
});
