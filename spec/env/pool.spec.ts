import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { EnvBackend } from "../../lib/env/backend";
import { ENV_MARKER } from "../../lib/env/marker";
import { EnvPool } from "../../lib/env/pool";
import { VenvBackend } from "../../lib/env/venv-backend";
import { RuntimedError } from "../../lib/protocol/errors";
import { Fixture, processesMentioning } from "./fixtures";

/** Waits until `condition` holds, polling; fails the test after `ms`. */
async function until(condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("EnvPool", () => {
  let fixture: Fixture;
  const pools: EnvPool[] = [];
  beforeEach(() => (fixture = new Fixture()));
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
    fixture.cleanup();
  });
  const newPool = (size = 1, backends: EnvBackend[] = [new VenvBackend()]) => {
    const pool = new EnvPool({ cacheDir: fixture.root, backends, size });
    pools.push(pool);
    return pool;
  };
  const envsDir = () => join(fixture.root, "envs");

  it("prewarms an env, hands it over synchronously, and replenishes in the background", async () => {
    const pool = newPool(1);
    await pool.ready();
    expect(pool.contents()).toEqual([{ backend: "venv", ready: 1, building: 0 }]);

    const env = pool.take("venv");
    expect(env).toBeDefined();
    expect(env!.dir).toMatch(/[/]envs[/]venv-pool-[0-9a-f-]{36}$/);
    expect(() => execFileSync(env!.python, ["-c", "import ipykernel"])).not.toThrow();
    // Taken envs are the caller's: no longer marked as free for a restarted daemon.
    expect(existsSync(join(env!.dir, ENV_MARKER))).toBe(false);
    expect(pool.contents()).toEqual([{ backend: "venv", ready: 0, building: 1 }]);
    expect(pool.take()).toBeUndefined();

    await pool.ready();
    expect(pool.contents()).toEqual([{ backend: "venv", ready: 1, building: 0 }]);
    const second = pool.take();
    expect(second!.dir).not.toBe(env!.dir);
  });

  it("take() returns a value, not a promise", async () => {
    const pool = newPool(1);
    await pool.ready();
    const env = pool.take();
    expect(env).not.toBeInstanceOf(Promise);
    expect(typeof env!.python).toBe("string");
  });

  it("lets a second pool on the same cache dir reuse the env the first one built", async () => {
    const first = newPool(1);
    await first.ready();
    await until(() => first.contents()[0].building === 0);
    const built = readdirSync(envsDir());
    await first.close();

    const second = newPool(1);
    await second.start();
    // Adopted at start, before any build could finish.
    expect(second.contents()[0].ready).toBe(1);
    expect(second.take()!.dir).toBe(join(envsDir(), built[0]));
  });

  it("deletes unfinished pool dirs at start and leaves other directories alone", async () => {
    const unfinished = fixture.dir("envs/venv-pool-00000000-0000-4000-8000-000000000000");
    const unrelated = fixture.dir("envs/venv-0123456789abcdef");
    const pool = newPool(1);
    await pool.start();
    expect(existsSync(unfinished)).toBe(false);
    expect(existsSync(unrelated)).toBe(true);
  });

  it("keeps the configured number of envs per backend", async () => {
    const pool = newPool(2);
    await pool.ready();
    await until(() => pool.contents()[0].ready === 2);
    expect(readdirSync(envsDir()).filter((name) => name.startsWith("venv-pool-"))).toHaveLength(2);
  });

  it("flush() deletes pooled envs and builds fresh ones", async () => {
    const pool = newPool(1);
    await pool.ready();
    await until(() => pool.contents()[0].building === 0);
    const before = readdirSync(envsDir());
    await pool.flush();
    for (const name of before) expect(existsSync(join(envsDir(), name))).toBe(false);
    await pool.ready();
    expect(pool.take()).toBeDefined();
  });

  it("close() cancels a build in progress and leaves no process running", async () => {
    const pool = newPool(1);
    await pool.start();
    expect(pool.contents()[0].building).toBe(1);
    await pool.close();
    expect(processesMentioning(envsDir())).toEqual([]);
    expect(pool.contents()[0].building).toBe(0);
    await expect(pool.ready()).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("ready() rejects with the build error when the only backend fails", async () => {
    const failing: EnvBackend = {
      name: "venv",
      available: async () => true,
      create: async () => {
        throw new RuntimedError("ENV_FAILED", "no python here");
      },
    };
    const pool = newPool(1, [failing]);
    await expect(pool.ready()).rejects.toMatchObject({ code: "ENV_FAILED", message: "no python here" });
    expect(pool.contents()).toEqual([{ backend: "venv", ready: 0, building: 0, error: "no python here" }]);
    expect(readdirSync(envsDir())).toEqual([]);
  });

  it("leaves out backends that are not available", async () => {
    const absent: EnvBackend = { name: "uv", available: async () => false, create: async () => Promise.reject(new Error("unused")) };
    const pool = newPool(1, [absent, new VenvBackend()]);
    await pool.ready();
    expect(pool.contents().map((c) => c.backend)).toEqual(["venv"]);
    expect(pool.take("uv")).toBeUndefined();
    await expect(pool.ready("uv")).rejects.toMatchObject({ code: "ENV_FAILED" });
  });
});
