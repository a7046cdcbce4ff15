import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import {
  findKernelSpec,
  findKernelSpecs,
  jupyterDataDirs,
  parseKernelSpec,
  pythonKernelSpec,
} from "../../lib/kernel/kernelspec";

async function installSpec(dataDir: string, name: string, kernelJson: unknown): Promise<string> {
  const directory = join(dataDir, "kernels", name);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, "kernel.json"), typeof kernelJson === "string" ? kernelJson : JSON.stringify(kernelJson));
  return directory;
}

describe("kernelspecs", () => {
  const savedEnv = { ...process.env };
  let root: string;
  let pathA: string;
  let pathB: string;
  let userDir: string;
  let venv: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "runtimed-specs-"));
    pathA = join(root, "a");
    pathB = join(root, "b");
    userDir = join(root, "user");
    venv = join(root, "venv");
    process.env.JUPYTER_PATH = [pathA, pathB].join(delimiter);
    process.env.JUPYTER_DATA_DIR = userDir;
    process.env.VIRTUAL_ENV = venv;
    delete process.env.CONDA_PREFIX;
  });

  afterEach(async () => {
    for (const name of ["JUPYTER_PATH", "JUPYTER_DATA_DIR", "VIRTUAL_ENV", "CONDA_PREFIX", "PATH"]) {
      if (savedEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[name];
    }
    await rm(root, { recursive: true, force: true });
  });

  test("data dirs come in Jupyter's order: JUPYTER_PATH, user, environment, system", async () => {
    // A python3 on PATH contributes its prefix (<prefix>/bin/python3 -> <prefix>/share/jupyter).
    const otherPrefix = join(root, "other-env");
    await mkdir(join(otherPrefix, "bin"), { recursive: true });
    await writeFile(join(otherPrefix, "bin", "python3"), "#!/bin/sh\n", { mode: 0o755 });
    process.env.PATH = [join(root, "empty"), join(otherPrefix, "bin")].join(delimiter);
    expect(await jupyterDataDirs()).toEqual([
      pathA,
      pathB,
      userDir,
      join(venv, "share", "jupyter"),
      join(otherPrefix, "share", "jupyter"),
      "/usr/local/share/jupyter",
      "/usr/share/jupyter",
    ]);
  });

  test("a kernel.json is read into a KernelSpec", async () => {
    const resourceDir = await installSpec(pathA, "Deno", {
      argv: ["deno", "jupyter", "--kernel", "--conn", "{connection_file}"],
      display_name: "Deno",
      language: "typescript",
      env: { DENO_NO_UPDATE_CHECK: "1" },
      interrupt_mode: "message",
    });
    const spec = await findKernelSpec("deno");
    expect(spec).toEqual({
      name: "deno",
      displayName: "Deno",
      language: "typescript",
      argv: ["deno", "jupyter", "--kernel", "--conn", "{connection_file}"],
      env: { DENO_NO_UPDATE_CHECK: "1" },
      interruptMode: "message",
      resourceDir,
    });
    expect(await findKernelSpec("DENO")).toEqual(spec);
  });

  test("the higher-priority dir wins when two hold the same name", async () => {
    await installSpec(pathB, "python3", { argv: ["from-b"], display_name: "B" });
    await installSpec(userDir, "python3", { argv: ["from-user"], display_name: "User" });
    await installSpec(join(venv, "share", "jupyter"), "python3", { argv: ["from-venv"] });
    expect((await findKernelSpec("python3"))?.argv).toEqual(["from-b"]);

    await installSpec(pathA, "python3", { argv: ["from-a"], display_name: "A" });
    expect((await findKernelSpec("python3"))?.displayName).toBe("A");
  });

  test("environment prefixes are searched after the user dir", async () => {
    await installSpec(join(venv, "share", "jupyter"), "venv-only", { argv: ["python", "-m", "ipykernel_launcher"] });
    const specs = await findKernelSpecs();
    expect(specs.get("venv-only")?.displayName).toBe("venv-only");
    expect(specs.get("venv-only")?.interruptMode).toBe("signal");
  });

  test("broken kernel.json files are skipped, the rest still found", async () => {
    await installSpec(pathA, "not-json", "{oops");
    await installSpec(pathA, "no-argv", { display_name: "No argv" });
    await installSpec(pathA, "bad-argv", { argv: [1, 2] });
    await installSpec(pathA, "good", { argv: ["good"] });
    const specs = await findKernelSpecs();
    expect(specs.has("not-json")).toBe(false);
    expect(specs.has("no-argv")).toBe(false);
    expect(specs.has("bad-argv")).toBe(false);
    expect(specs.get("good")?.argv).toEqual(["good"]);
    expect(await findKernelSpec("nope")).toBeUndefined();
  });

  test("parseKernelSpec ignores a malformed env and defaults the rest", () => {
    expect(parseKernelSpec("k", "/r", { argv: ["x"], env: { A: 1 }, interrupt_mode: "weird" })).toEqual({
      name: "k",
      displayName: "k",
      language: "",
      argv: ["x"],
      env: {},
      interruptMode: "signal",
      resourceDir: "/r",
    });
    expect(parseKernelSpec("k", "/r", null)).toBeUndefined();
  });

  test("pythonKernelSpec runs ipykernel_launcher with frozen modules off", () => {
    expect(pythonKernelSpec("/usr/bin/python3").argv).toEqual([
      "/usr/bin/python3",
      "-Xfrozen_modules=off",
      "-m",
      "ipykernel_launcher",
      "-f",
      "{connection_file}",
    ]);
  });
});
