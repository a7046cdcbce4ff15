import { existsSync } from "node:fs";
import { join } from "node:path";
import type { EnvBackend, EnvSpec, PythonEnv } from "../../lib/env/backend";
import { EnvCache, envCacheKey } from "../../lib/env/env-cache";
import { ENV_MARKER } from "../../lib/env/marker";
import { VenvBackend } from "../../lib/env/venv-backend";
import { RuntimedError } from "../../lib/protocol/errors";
import { Fixture } from "./fixtures";

describe("envCacheKey", () => {
  it("ignores dependency order but not channel order, backend or python", () => {
    const base: EnvSpec = { dependencies: ["a", "b"], channels: ["x", "y"], python: "3.11" };
    expect(envCacheKey("uv", base)).toBe(envCacheKey("uv", { ...base, dependencies: ["b", "a"] }));
    expect(envCacheKey("uv", base)).not.toBe(envCacheKey("uv", { ...base, channels: ["y", "x"] }));
    expect(envCacheKey("uv", base)).not.toBe(envCacheKey("venv", base));
    expect(envCacheKey("uv", base)).not.toBe(envCacheKey("uv", { ...base, python: "3.12" }));
    expect(envCacheKey("uv", base)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("EnvCache", () => {
  let fixture: Fixture;
  beforeEach(() => (fixture = new Fixture()));
  afterEach(() => fixture.cleanup());

  /** A venv backend that counts its builds. */
  function countingVenv(): EnvBackend & { builds: number } {
    const venv = new VenvBackend();
    const counting = {
      name: "venv" as const,
      builds: 0,
      available: () => venv.available(),
      create: (...args: Parameters<EnvBackend["create"]>): Promise<PythonEnv> => {
        counting.builds++;
        return venv.create(...args);
      },
    };
    return counting;
  }

  it("builds once for concurrent requests and reuses the env afterwards, across instances", async () => {
    const backend = countingVenv();
    const cache = new EnvCache(fixture.root);
    const spec = { dependencies: ["ipykernel"] };
    const [a, b] = await Promise.all([cache.getOrCreate(backend, spec), cache.getOrCreate(backend, spec)]);
    expect(a.env.dir).toBe(b.env.dir);
    expect(backend.builds).toBe(1);
    expect(existsSync(join(a.env.dir, ENV_MARKER))).toBe(true);
    const again = await new EnvCache(fixture.root).getOrCreate(backend, spec);
    expect(again).toEqual({ env: a.env, reused: true });
    expect(backend.builds).toBe(1);
  }, 60_000);

  it("rebuilds a directory left without a marker by an interrupted build", async () => {
    const backend = countingVenv();
    const cache = new EnvCache(fixture.root);
    const spec = { dependencies: [] };
    const stale = cache.dirFor("venv", spec);
    fixture.write(join(stale.slice(fixture.root.length + 1), "half-written"), "x");
    const { env, reused } = await cache.getOrCreate(backend, spec);
    expect(reused).toBe(false);
    expect(existsSync(join(env.dir, "half-written"))).toBe(false);
  });

  it("leaves nothing behind when a build fails, and reports the failure", async () => {
    const failing: EnvBackend = {
      name: "uv",
      available: async () => true,
      create: async (dir) => {
        fixture.write(join(dir.slice(fixture.root.length + 1), "partial"), "x");
        throw new RuntimedError("ENV_FAILED", "resolver said no");
      },
    };
    const cache = new EnvCache(fixture.root);
    const phases: string[] = [];
    await expect(cache.getOrCreate(failing, { dependencies: ["x"] }, (p) => phases.push(p.phase))).rejects.toMatchObject({
      message: "resolver said no",
    });
    expect(existsSync(cache.dirFor("uv", { dependencies: ["x"] }))).toBe(false);
    expect(phases).toEqual(["failed"]);
  });
});
