import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvProgress } from "../../lib/env/backend";
import { UvBackend } from "../../lib/env/uv-backend";
import { Fixture, fakeTool, onPath } from "./fixtures";

const uvInstalled = onPath("uv");

describe("UvBackend", () => {
  let fixture: Fixture;
  beforeEach(() => (fixture = new Fixture()));
  afterEach(() => fixture.cleanup());

  if (uvInstalled) {
    it("builds a real uv environment whose python can import ipykernel", async () => {
      const env = await new UvBackend().create(fixture.path("env"), { dependencies: [] });
      expect(() => execFileSync(env.python, ["-c", "import ipykernel"])).not.toThrow();
    }, 300_000);
  } else {
    it("skipped: uv not installed on this machine, and available() honestly reports false", async () => {
      expect(await new UvBackend().available()).toBe(false);
      await expect(new UvBackend().create(fixture.path("env"), { dependencies: [] })).rejects.toMatchObject({
        code: "ENV_FAILED",
        message: expect.stringContaining("uv is not installed"),
      });
    });
  }

  it("runs uv venv, then uv pip install of ipykernel and the deps into that interpreter", async () => {
    const uv = fakeTool(
      fixture,
      "uv",
      'if [ "$1" = venv ]; then mkdir -p "$2/bin" && ln -s /usr/bin/python3 "$2/bin/python"; fi\n' +
        'if [ "$1" = pip ]; then echo " + ipykernel==6.29.5" >&2; echo " + rich==13.7.1" >&2; fi',
    );
    const dir = fixture.path("env");
    const progress: EnvProgress[] = [];
    const backend = new UvBackend({ uv: uv.path });
    expect(await backend.available()).toBe(true);
    const env = await backend.create(dir, { dependencies: ["rich>=13"], python: "3.11" }, (p) => progress.push(p));
    expect(env).toEqual({ python: join(dir, "bin", "python"), dir, backend: "uv" });
    expect(readFileSync(uv.log, "utf8").trim().split("\n")).toEqual([
      `venv ${dir} --python 3.11`,
      `pip install --python ${join(dir, "bin", "python")} -- ipykernel rich>=13`,
    ]);
    expect(progress.filter((p) => p.package).map((p) => p.package)).toEqual(["ipykernel", "rich"]);
  });

  it("refuses a requirement or Python version that is an option before running uv", async () => {
    const uv = fakeTool(fixture, "uv", "exit 0");
    const backend = new UvBackend({ uv: uv.path });
    await expect(backend.create(fixture.path("env"), { dependencies: ["-e ."] })).rejects.toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining('"-e ."') });
    await expect(backend.create(fixture.path("env"), { dependencies: [], python: "--system" })).rejects.toMatchObject({ code: "ENV_FAILED" });
    expect(existsSync(uv.log)).toBe(false);
  });

  it("fails with ENV_FAILED carrying uv's own error", async () => {
    const uv = fakeTool(fixture, "uv", 'echo "error: No solution found when resolving dependencies" >&2; exit 1');
    await expect(new UvBackend({ uv: uv.path }).create(fixture.path("env"), { dependencies: ["nope"] })).rejects.toMatchObject({
      code: "ENV_FAILED",
      message: expect.stringContaining("error: No solution found"),
    });
  });
});
