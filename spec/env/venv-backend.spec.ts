import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvProgress } from "../../lib/env/backend";
import { VenvBackend } from "../../lib/env/venv-backend";
import { RuntimedError } from "../../lib/protocol/errors";
import { Fixture, processesMentioning } from "./fixtures";

describe("VenvBackend", () => {
  let fixture: Fixture;
  beforeEach(() => (fixture = new Fixture()));
  afterEach(() => fixture.cleanup());

  it("is available here, over an interpreter that can import ipykernel", async () => {
    const backend = new VenvBackend();
    expect(await backend.available()).toBe(true);
    const base = await backend.basePython();
    expect(() => execFileSync(base!, ["-c", "import ipykernel"])).not.toThrow();
  });

  it("creates a venv without dependencies whose python can import ipykernel", async () => {
    const progress: EnvProgress[] = [];
    const dir = fixture.path("env");
    const env = await new VenvBackend().create(dir, { dependencies: [] }, (p) => progress.push(p));
    expect(env).toEqual({ python: join(dir, "bin", "python"), dir, backend: "venv" });
    expect(execFileSync(env.python, ["-c", "import ipykernel, sys; print(sys.prefix)"], { encoding: "utf8" }).trim()).toBe(dir);
    expect(readFileSync(join(dir, "pyvenv.cfg"), "utf8")).toMatch(/include-system-site-packages = true/);
    // Built --without-pip: nothing was copied into the venv's own site-packages.
    const lib = readdirSync(join(dir, "lib"))[0];
    expect(readdirSync(join(dir, "lib", lib, "site-packages"))).toEqual([]);
    expect(progress[0].phase).toBe("creating");
    expect(progress.at(-1)).toEqual({ phase: "ready", fraction: 1 });
  });

  it("fails fast with ENV_FAILED carrying pip's own error for a package that does not exist", async () => {
    const dir = fixture.path("env");
    const started = Date.now();
    const error = await new VenvBackend()
      .create(dir, { dependencies: ["definitely-not-a-real-package-xyz"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimedError);
    expect(error).toMatchObject({ code: "ENV_FAILED" });
    expect((error as Error).message).toMatch(/ERROR: (Could not find a version|No matching distribution found) .*definitely-not-a-real-package-xyz/);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(processesMentioning(dir)).toEqual([]);
  }, 60_000);

  it("refuses a requirement that is a pip option before creating anything", async () => {
    const dir = fixture.path("env");
    await expect(new VenvBackend().create(dir, { dependencies: ["--index-url=http://example.invalid"] })).rejects.toMatchObject({
      code: "ENV_FAILED",
      message: expect.stringContaining('"--index-url=http://example.invalid"'),
    });
    expect(existsSync(dir)).toBe(false);
  });

  it("over a Python without ipykernel that cannot get it, fails with KERNEL_FAILED naming what was tried and how to install it", async () => {
    // A python3 that runs nothing: no ipykernel, no venv module, no pip.
    const broken = fixture.write("bin/python3", "#!/bin/sh\necho 'No module named venv' >&2\nexit 1\n");
    chmodSync(broken, 0o755);
    const before = process.env.RUNTIMED_PYTHON;
    process.env.RUNTIMED_PYTHON = broken;
    try {
      const backend = new VenvBackend();
      expect(await backend.available()).toBe(true);
      const error = await backend.create(fixture.path("env"), { dependencies: [] }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "KERNEL_FAILED" });
      const [first, ...rest] = (error as Error).message.split("\n");
      expect(first).toBe(
        `No Python that can import ipykernel was found (tried ${broken}, as RUNTIMED_PYTHON says); install it with ` +
          "`apt-get install python3-ipykernel python3-venv` (Debian, Ubuntu) or `pip install ipykernel`. " +
          `Installing ipykernel into a venv over ${broken} failed: python -m venv failed (exit 1) in ${fixture.path("env")}:`,
      );
      expect(rest).toEqual(["No module named venv"]);
    } finally {
      if (before === undefined) delete process.env.RUNTIMED_PYTHON;
      else process.env.RUNTIMED_PYTHON = before;
    }
  });

  it("installs requirements pip can satisfy without a network, and they import", async () => {
    // ipykernel is already visible through the system site packages, so pip has nothing to fetch.
    const env = await new VenvBackend().create(fixture.path("env"), { dependencies: ["ipykernel"] });
    expect(() => execFileSync(env.python, ["-c", "import ipykernel"])).not.toThrow();
  }, 60_000);

  it("stops a build that exceeds its time limit with ENV_FAILED", async () => {
    const error = await new VenvBackend({ timeoutMs: 1 }).create(fixture.path("env"), { dependencies: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining("did not finish within") });
  });

  it("rejects with CANCELLED when aborted, leaving no process behind", async () => {
    const dir = fixture.path("env");
    const controller = new AbortController();
    const building = new VenvBackend().create(dir, { dependencies: [] }, undefined, controller.signal);
    controller.abort();
    await expect(building).rejects.toMatchObject({ code: "CANCELLED" });
    expect(processesMentioning(dir)).toEqual([]);
    expect(existsSync(join(dir, "runtimed-env.json"))).toBe(false);
  });
});
