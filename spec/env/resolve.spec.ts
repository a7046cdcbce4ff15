import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { EnvBackend, EnvProgress } from "../../lib/env/backend";
import { CondaBackend } from "../../lib/env/conda-backend";
import { detectEnvironment } from "../../lib/env/detect";
import { EnvPool } from "../../lib/env/pool";
import { resolveEnvironment } from "../../lib/env/resolve";
import { UvBackend } from "../../lib/env/uv-backend";
import { VenvBackend } from "../../lib/env/venv-backend";
import type { EnvRequest } from "../../lib/env/request";
import { RuntimedError } from "../../lib/protocol/errors";
import { Fixture, onPath } from "./fixtures";

/** The backend as it would be on a machine without its tool. */
function absent(backend: EnvBackend): EnvBackend {
  return { name: backend.name, available: async () => false, create: (...args) => backend.create(...args) };
}

const noUvNoConda = !onPath("uv") && !["micromamba", "mamba", "conda"].some(onPath);

describe("resolveEnvironment", () => {
  let fixture: Fixture;
  let pool: EnvPool;
  let backends: EnvBackend[];
  beforeEach(() => {
    fixture = new Fixture();
    // uv and conda are given but absent on this machine, which is what these tests are about.
    backends = [absent(new UvBackend()), absent(new CondaBackend()), new VenvBackend()];
    pool = new EnvPool({ cacheDir: fixture.root, backends, size: 1 });
  });
  afterEach(async () => {
    await pool.close();
    fixture.cleanup();
  });
  const resolve = (request: Parameters<typeof resolveEnvironment>[0]["request"], onProgress?: (p: EnvProgress) => void) =>
    resolveEnvironment({ request, pool, backends, cacheDir: fixture.root, onProgress });

  it("takes a prewarmed env from the pool and labels it with the backend that built it", async () => {
    await pool.ready();
    const { env, label } = await resolve({ kind: "prewarmed" });
    expect(label).toBe("venv:prewarmed");
    expect(env.backend).toBe("venv");
    expect(env.dir).toContain("venv-pool-");
  });

  it("builds a prewarmed env on the spot when the pool is empty", async () => {
    const { env, label } = await resolve({ kind: "prewarmed" });
    expect(label).toBe("venv:prewarmed");
    expect(() => execFileSync(env.python, ["-c", "import ipykernel"])).not.toThrow();
  });

  it("serves an explicit uv:prewarmed with venv when uv is absent, and says so", async () => {
    expect((await resolve({ kind: "prewarmed", backend: "uv" })).label).toBe("venv:prewarmed");
  });

  it("fails an explicit conda:prewarmed without conda instead of pretending", async () => {
    await expect(resolve({ kind: "prewarmed", backend: "conda" })).rejects.toMatchObject({
      code: "ENV_FAILED",
      message: expect.stringContaining("micromamba"),
    });
  });

  it("builds inline uv deps with venv when uv is absent, labels it venv:inline, and reuses it from the cache", async () => {
    const request: EnvRequest = { kind: "inline", manager: "uv", dependencies: ["ipykernel"] };
    const first = await resolve(request);
    expect(first.label).toBe("venv:inline");
    expect(first.env.dir).toMatch(/[/]envs[/]venv-[0-9a-f]{16}$/);
    const progress: EnvProgress[] = [];
    const second = await resolve(request, (p) => progress.push(p));
    expect(second.env.dir).toBe(first.env.dir);
    expect(progress).toEqual([expect.objectContaining({ phase: "ready", message: expect.stringContaining("Reusing") })]);
  }, 60_000);

  it("labels a pyproject env built without uv as venv:pyproject", async () => {
    const { label } = await resolve({ kind: "pyproject", path: "/x/pyproject.toml", dependencies: [] });
    expect(label).toBe("venv:pyproject");
  });

  it("fails with pip's message on an install failure and does not fall back to another env", async () => {
    await pool.ready();
    const progress: EnvProgress[] = [];
    const error = await resolve(
      { kind: "inline", manager: "uv", dependencies: ["definitely-not-a-real-package-xyz"] },
      (p) => progress.push(p),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimedError);
    expect(error).toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining("definitely-not-a-real-package-xyz") });
    expect(progress.at(-1)).toMatchObject({ phase: "failed" });
    // The prewarmed env is still in the pool, and the failed build left no directory.
    expect(pool.contents()[0].ready).toBe(1);
    expect(readdirSync(join(fixture.root, "envs")).filter((name) => !name.includes("-pool-"))).toEqual([]);
  }, 60_000);

  it("requires conda for environment.yml and pixi.toml", async () => {
    await expect(
      resolve({ kind: "env_yml", path: "/p/environment.yml", dependencies: ["numpy"], channels: [], pipDependencies: [] }),
    ).rejects.toMatchObject({ code: "ENV_FAILED", message: expect.stringMatching(/needs conda.*micromamba/) });
    await expect(resolve({ kind: "pixi", path: "/p/pixi.toml", dependencies: [], channels: [], pipDependencies: [] })).rejects.toMatchObject({
      code: "ENV_FAILED",
      message: expect.stringContaining("/p/pixi.toml needs conda"),
    });
    await expect(resolve({ kind: "inline", manager: "conda", dependencies: ["numpy"] })).rejects.toMatchObject({ code: "ENV_FAILED" });
  });

  it("without conda, a conda-only project with column-0 lists or pixi PyPI deps fails saying conda is missing, not with a parse error", async () => {
    const yml = fixture.write("proj/environment.yml", "name: p\nchannels:\n- conda-forge\ndependencies:\n- python=3.11\n- numpy\n- pip:\n  - rich\n");
    const fromYml = await detectEnvironment({ metadata: {}, notebookPath: fixture.path("proj/a.ipynb"), homeDir: fixture.path("home") });
    expect(fromYml).toMatchObject({ kind: "env_yml", path: yml, dependencies: ["python=3.11", "numpy"], pipDependencies: ["rich"] });
    await expect(resolve(fromYml)).rejects.toMatchObject({ code: "ENV_FAILED", message: `${yml} needs conda, but none of micromamba, mamba or conda is installed; install micromamba (https://mamba.readthedocs.io) or choose another envSource` });

    const pixi = fixture.write("pixi/pixi.toml", '[workspace]\nchannels = ["conda-forge"]\n[dependencies]\npython = "3.12.*"\n[pypi-dependencies]\nrich = ">=13"\n');
    const fromPixi = await detectEnvironment({ metadata: {}, notebookPath: fixture.path("pixi/a.ipynb"), homeDir: fixture.path("home") });
    expect(fromPixi).toMatchObject({ kind: "pixi", pipDependencies: ["rich>=13"] });
    await expect(resolve(fromPixi)).rejects.toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining(`${pixi} needs conda`) });
  });

  it("refuses to install conda specs with pip even when asked to", async () => {
    await expect(
      resolve({ kind: "env_yml", path: "/p/environment.yml", dependencies: ["numpy"], channels: [], pipDependencies: [], backend: "venv" }),
    ).rejects.toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining("venv cannot install") });
  });

  it(`${noUvNoConda ? "on this machine (no uv, no conda)" : "with the real backends"}: a default set of backends resolves prewarmed`, async () => {
    const real = [new UvBackend(), new CondaBackend(), new VenvBackend()];
    const realPool = new EnvPool({ cacheDir: join(fixture.root, "real"), backends: real, size: 0 });
    try {
      const { label } = await resolveEnvironment({ request: { kind: "prewarmed" }, pool: realPool, backends: real, cacheDir: join(fixture.root, "real") });
      expect(label).toEqual(noUvNoConda ? "venv:prewarmed" : expect.stringMatching(/^(uv|conda|venv):prewarmed$/));
      expect(existsSync(join(fixture.root, "real", "envs"))).toBe(true);
    } finally {
      await realPool.close();
    }
  }, 300_000);
});
