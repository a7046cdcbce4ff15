import { detectEnvironment } from "../../lib/env/detect";
import { RuntimedError } from "../../lib/protocol/errors";
import { Fixture } from "./fixtures";

const pyproject = (deps: string[]) => `[project]\nname = "x"\ndependencies = [${deps.map((d) => `"${d}"`).join(", ")}]\n`;
const pixiToml = `[workspace]\nchannels = ["conda-forge"]\n\n[dependencies]\nnumpy = ">=1.26"\n`;
const envYml = "channels:\n  - conda-forge\ndependencies:\n  - scipy\n";

describe("detectEnvironment", () => {
  let fixture: Fixture;
  let home: string;
  beforeEach(() => {
    fixture = new Fixture();
    home = fixture.dir("home");
  });
  afterEach(() => fixture.cleanup());

  const detect = (notebook: string | undefined, metadata: Record<string, string> = {}, envSource?: string) =>
    detectEnvironment({ metadata, notebookPath: notebook === undefined ? undefined : fixture.path(notebook), homeDir: home, envSource });

  it("gives prewarmed when there is nothing to go on", async () => {
    expect(await detect(undefined)).toEqual({ kind: "prewarmed" });
    expect(await detect("home/work/a.ipynb")).toEqual({ kind: "prewarmed" });
  });

  it("prefers inline uv deps in metadata over a pyproject.toml next to the notebook", async () => {
    fixture.write("home/work/pyproject.toml", pyproject(["pandas"]));
    const request = await detect("home/work/a.ipynb", { uv: JSON.stringify({ dependencies: ["rich"], "requires-python": ">=3.10" }) });
    expect(request).toEqual({ kind: "inline", manager: "uv", dependencies: ["rich"], python: ">=3.10" });
  });

  it("reads inline conda deps with channels and python", async () => {
    const conda = JSON.stringify({ dependencies: ["numpy"], channels: ["conda-forge"], python: "3.11" });
    expect(await detect(undefined, { conda })).toEqual({
      kind: "inline",
      manager: "conda",
      dependencies: ["numpy"],
      channels: ["conda-forge"],
      python: "3.11",
    });
  });

  it("finds inline deps inside notebook_metadata, at .runt.uv and at .conda", async () => {
    const runt = JSON.stringify({ runt: { uv: { dependencies: ["httpx"] } } });
    expect(await detect(undefined, { notebook_metadata: runt })).toMatchObject({ kind: "inline", manager: "uv", dependencies: ["httpx"] });
    const plain = JSON.stringify({ kernelspec: { name: "python3" }, conda: { dependencies: ["xarray"] } });
    expect(await detect(undefined, { notebook_metadata: plain })).toMatchObject({ kind: "inline", manager: "conda", dependencies: ["xarray"] });
  });

  it("passes over an inline declaration with no dependencies", async () => {
    fixture.write("home/work/pyproject.toml", pyproject(["pandas"]));
    const request = await detect("home/work/a.ipynb", { uv: JSON.stringify({ dependencies: [] }) });
    expect(request).toMatchObject({ kind: "pyproject", dependencies: ["pandas"] });
  });

  it("rejects inline metadata that is not JSON with ENV_FAILED naming the key", async () => {
    await expect(detect(undefined, { uv: "{not json" })).rejects.toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining('"uv"') });
    await expect(detect(undefined, { uv: JSON.stringify({ dependencies: "numpy" }) })).rejects.toMatchObject({
      code: "ENV_FAILED",
      message: expect.stringContaining("uv.dependencies"),
    });
  });

  it("prefers pyproject.toml over pixi.toml over environment.yml in one directory", async () => {
    const yml = fixture.write("home/work/environment.yml", envYml);
    expect(await detect("home/work/a.ipynb")).toEqual({
      kind: "env_yml",
      path: yml,
      dependencies: ["scipy"],
      channels: ["conda-forge"],
      pipDependencies: [],
    });
    const pixi = fixture.write("home/work/pixi.toml", pixiToml);
    expect(await detect("home/work/a.ipynb")).toEqual({ kind: "pixi", path: pixi, dependencies: ["numpy >=1.26"], channels: ["conda-forge"], pipDependencies: [] });
    const py = fixture.write("home/work/pyproject.toml", pyproject(["pandas>=2", "rich"]));
    expect(await detect("home/work/a.ipynb")).toEqual({ kind: "pyproject", path: py, dependencies: ["pandas>=2", "rich"] });
  });

  it("accepts environment.yaml as well as environment.yml", async () => {
    const yaml = fixture.write("home/work/environment.yaml", envYml);
    expect(await detect("home/work/a.ipynb")).toMatchObject({ kind: "env_yml", path: yaml });
  });

  it("walks up to the nearest project file, nearer directories first", async () => {
    fixture.write("home/proj/pyproject.toml", pyproject(["pandas"]));
    expect(await detect("home/proj/notebooks/deep/a.ipynb")).toMatchObject({ kind: "pyproject", dependencies: ["pandas"] });
    const pixi = fixture.write("home/proj/notebooks/pixi.toml", pixiToml);
    expect(await detect("home/proj/notebooks/deep/a.ipynb")).toMatchObject({ kind: "pixi", path: pixi });
  });

  it("stops after the directory that contains .git", async () => {
    fixture.write("home/outer/pyproject.toml", pyproject(["pandas"]));
    fixture.dir("home/outer/repo/.git");
    expect(await detect("home/outer/repo/nb/a.ipynb")).toEqual({ kind: "prewarmed" });
    // The repository root itself is still searched.
    fixture.write("home/outer/repo/environment.yml", envYml);
    expect(await detect("home/outer/repo/nb/a.ipynb")).toMatchObject({ kind: "env_yml" });
  });

  it("stops at the home directory without searching it", async () => {
    fixture.write("home/pyproject.toml", pyproject(["pandas"]));
    expect(await detect("home/work/a.ipynb")).toEqual({ kind: "prewarmed" });
  });

  it("treats a pyproject.toml with a [tool.pixi] table as a pixi manifest", async () => {
    const path = fixture.write(
      "home/work/pyproject.toml",
      `[project]\nname = "x"\n\n[tool.pixi.workspace]\nchannels = ["conda-forge"]\n\n[tool.pixi.dependencies]\npython = "3.12.*"\n`,
    );
    expect(await detect("home/work/a.ipynb")).toEqual({ kind: "pixi", path, dependencies: ["python 3.12.*"], channels: ["conda-forge"], pipDependencies: [] });
  });

  it("reports a malformed pyproject.toml with ENV_FAILED naming the file and line", async () => {
    const path = fixture.write("home/work/pyproject.toml", `[project]\nname = "x"\ndependencies = [\n  "pandas",\n  pandas2,\n]\n`);
    const error = await detect("home/work/a.ipynb").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimedError);
    expect(error).toMatchObject({ code: "ENV_FAILED" });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain("line 5");
  });

  it("reports a malformed environment.yml with ENV_FAILED naming the line", async () => {
    fixture.write("home/work/environment.yml", "dependencies: numpy\n");
    await expect(detect("home/work/a.ipynb")).rejects.toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining("line 1") });
  });

  it("reads an environment.yml whose lists start at column 0", async () => {
    const path = fixture.write("home/work/environment.yml", "name: x\nchannels:\n- conda-forge\ndependencies:\n- python=3.11\n- pip:\n  - rich\n");
    expect(await detect("home/work/a.ipynb")).toEqual({
      kind: "env_yml",
      path,
      dependencies: ["python=3.11"],
      channels: ["conda-forge"],
      pipDependencies: ["rich"],
    });
  });

  it("adds a pyproject.toml's dev dependency group to its dependencies, as uv would", async () => {
    fixture.write("home/work/pyproject.toml", `project.dependencies = ["pandas"]\n\n[dependency-groups]\ndev = ["pytest"]\ndocs = ["mkdocs"]\n`);
    expect(await detect("home/work/a.ipynb")).toMatchObject({ kind: "pyproject", dependencies: ["pandas", "pytest"] });
  });

  it("refuses an inline dependency that is an installer option, naming it and its metadata key", async () => {
    const uv = JSON.stringify({ dependencies: ["numpy", "--index-url http://example.invalid"] });
    await expect(detect(undefined, { uv })).rejects.toMatchObject({
      code: "ENV_FAILED",
      message: expect.stringContaining('"--index-url http://example.invalid" in notebook metadata "uv.dependencies"'),
    });
    const conda = JSON.stringify({ dependencies: ["numpy"], channels: ["--insecure"] });
    await expect(detect(undefined, { conda })).rejects.toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining('"conda.channels"') });
  });

  describe("with an explicit envSource", () => {
    it("gives prewarmed with the named backend, ignoring inline deps", async () => {
      expect(await detect(undefined, { uv: JSON.stringify({ dependencies: ["rich"] }) }, "conda:prewarmed")).toEqual({
        kind: "prewarmed",
        backend: "conda",
      });
    });

    it("looks only for the named project file", async () => {
      fixture.write("home/work/pyproject.toml", pyproject(["pandas"]));
      const yml = fixture.write("home/work/environment.yml", envYml);
      expect(await detect("home/work/a.ipynb", {}, "conda:env_yml")).toMatchObject({ kind: "env_yml", path: yml, backend: "conda" });
    });

    it("fails clearly when the named source is missing", async () => {
      await expect(detect("home/work/a.ipynb", {}, "uv:inline")).rejects.toMatchObject({ code: "ENV_FAILED" });
      await expect(detect("home/work/a.ipynb", {}, "uv:pyproject")).rejects.toMatchObject({
        code: "ENV_FAILED",
        message: expect.stringContaining("pyproject.toml"),
      });
    });

    it("rejects an unknown envSource with BAD_REQUEST", async () => {
      await expect(detect(undefined, {}, "pip:magic")).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });
  });
});
