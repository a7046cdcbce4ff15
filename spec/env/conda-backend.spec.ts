import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CondaBackend } from "../../lib/env/conda-backend";
import { Fixture, fakeTool, onPath } from "./fixtures";

const condaTool = ["micromamba", "mamba", "conda"].find(onPath);

describe("CondaBackend", () => {
  let fixture: Fixture;
  beforeEach(() => (fixture = new Fixture()));
  afterEach(() => fixture.cleanup());

  if (condaTool) {
    it(`builds a real environment with ${condaTool} whose python can import ipykernel`, async () => {
      const env = await new CondaBackend().create(fixture.path("env"), { dependencies: [] });
      expect(() => execFileSync(env.python, ["-c", "import ipykernel"])).not.toThrow();
    }, 900_000);
  } else {
    it("skipped: none of micromamba, mamba or conda is installed, and available() honestly reports false", async () => {
      expect(await new CondaBackend().available()).toBe(false);
      await expect(new CondaBackend().create(fixture.path("env"), { dependencies: [] })).rejects.toMatchObject({
        code: "ENV_FAILED",
        message: expect.stringContaining("micromamba, mamba or conda"),
      });
    });
  }

  it("runs <tool> create -y -p <dir> with the channels, python, ipykernel and the deps", async () => {
    const tool = fakeTool(fixture, "micromamba", 'mkdir -p "$4/bin" && ln -s /usr/bin/python3 "$4/bin/python"');
    const dir = fixture.path("env");
    const env = await new CondaBackend({ executable: tool.path }).create(dir, {
      dependencies: ["numpy>=1.26"],
      channels: ["conda-forge", "bioconda"],
      python: "3.11",
    });
    expect(env).toEqual({ python: join(dir, "bin", "python"), dir, backend: "conda" });
    expect(readFileSync(tool.log, "utf8").trim()).toBe(
      `create -y -p ${dir} --override-channels -c conda-forge -c bioconda -- python=3.11 ipykernel numpy>=1.26`,
    );
  });

  it("uses conda-forge when no channel is named, and a python already in the deps as given", async () => {
    const tool = fakeTool(fixture, "micromamba", 'mkdir -p "$4/bin" && ln -s /usr/bin/python3 "$4/bin/python"');
    const dir = fixture.path("env");
    await new CondaBackend({ executable: tool.path }).create(dir, { dependencies: ["python=3.12", "scipy"] });
    expect(readFileSync(tool.log, "utf8").trim()).toBe(`create -y -p ${dir} --override-channels -c conda-forge -- ipykernel python=3.12 scipy`);
  });

  it("refuses specs, pip requirements and channels that are options before running the solver", async () => {
    const tool = fakeTool(fixture, "micromamba", "exit 0");
    const backend = new CondaBackend({ executable: tool.path });
    await expect(backend.create(fixture.path("env"), { dependencies: ["--offline"] })).rejects.toMatchObject({ code: "ENV_FAILED" });
    await expect(backend.create(fixture.path("env"), { dependencies: [], pipDependencies: ["-r req.txt"] })).rejects.toMatchObject({ code: "ENV_FAILED" });
    await expect(backend.create(fixture.path("env"), { dependencies: [], channels: ["--insecure"] })).rejects.toMatchObject({ code: "ENV_FAILED" });
    expect(existsSync(tool.log)).toBe(false);
  });

  it("fails with ENV_FAILED carrying the solver's own error", async () => {
    const tool = fakeTool(fixture, "micromamba", 'echo "critical libmamba Could not solve for environment specs" >&2; exit 1');
    await expect(new CondaBackend({ executable: tool.path }).create(fixture.path("env"), { dependencies: ["nope"] })).rejects.toMatchObject({
      code: "ENV_FAILED",
      message: expect.stringContaining("Could not solve"),
    });
  });
});
