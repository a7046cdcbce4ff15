/**
 * Dependencies written by whoever wrote a notebook or a project file must never reach an
 * installer as options. The daemon runs as its own process with stand-ins for uv and
 * micromamba first on PATH that record every command line they are given, so the test sees
 * exactly which installers ran, and with what.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Session } from "../../lib/session/session";
import { expectCode } from "../integration/harness";
import { NO_PREWARMING } from "./environment";
import { makeTempDir, removeDaemonProcess, spawnDaemonProcess, type DaemonProcess } from "./processes";

jest.setTimeout(120_000);

const EVIL = "--index-url http://example.invalid";

describe("dependency strings that look like installer options", () => {
  let cacheDir: string;
  let projects: string;
  let installerLog: string;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    cacheDir = makeTempDir("installer-args");
    projects = path.join(cacheDir, "projects");
    fs.mkdirSync(path.join(projects, ".git"), { recursive: true });
    const bin = path.join(cacheDir, "bin");
    fs.mkdirSync(bin);
    installerLog = path.join(cacheDir, "installers.log");
    // Each logs its command line; uv makes the venv it is asked for, then fails to install.
    const venv = 'if [ "$1" = venv ]; then mkdir -p "$2/bin" && ln -s /usr/bin/python3 "$2/bin/python" && exit 0; fi';
    for (const tool of ["uv", "micromamba"]) {
      fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${installerLog}'\n${tool === "uv" ? venv : ""}\nexit 1\n`, { mode: 0o755 });
    }
    daemon = await spawnDaemonProcess(cacheDir, {
      ...NO_PREWARMING,
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    });
  });

  afterAll(async () => {
    await removeDaemonProcess(daemon, cacheDir);
  });

  async function startKernelWith(notebookId: string, setUp: (session: Session) => void, notebookPath?: string) {
    const session = new Session({ notebookId, socketPath: daemon.socketPath, cacheDir, autoStart: false });
    try {
      await session.connect();
      setUp(session);
      await session.flush();
      const error = await expectCode(session.startKernel({ kernelType: "python", notebookPath }), "ENV_FAILED");
      expect(session.kernelStarted).toBe(false);
      return error;
    } finally {
      await session.close();
    }
  }

  it("an inline uv dependency fails startKernel with ENV_FAILED naming it and its metadata key, and no installer runs", async () => {
    const error = await startKernelWith("inline-uv", (session) => session.setMetadata("uv", JSON.stringify({ dependencies: ["numpy", EVIL] })));
    expect(error.message).toContain(`"${EVIL}" in notebook metadata "uv.dependencies"`);
    expect(error.message).toContain("installer options are not accepted");
    expect(fs.existsSync(installerLog)).toBe(false);
  });

  it("an inline conda dependency or channel that is an option fails the same way", async () => {
    const spec = await startKernelWith("inline-conda", (session) => session.setMetadata("conda", JSON.stringify({ dependencies: ["--offline"] })));
    expect(spec.message).toContain('"--offline" in notebook metadata "conda.dependencies"');
    const channel = await startKernelWith("inline-channel", (session) =>
      session.setMetadata("conda", JSON.stringify({ dependencies: ["numpy"], channels: ["--insecure"] })),
    );
    expect(channel.message).toContain('"--insecure" in notebook metadata "conda.channels"');
    expect(fs.existsSync(installerLog)).toBe(false);
  });

  it("project files are checked too: a pyproject.toml dependency group and an environment.yml pip list, naming file and place", async () => {
    const pyproject = path.join(projects, "py");
    fs.mkdirSync(pyproject);
    fs.writeFileSync(path.join(pyproject, "pyproject.toml"), `[project]\nname = "p"\ndependencies = ["numpy"]\n\n[dependency-groups]\ndev = ["-e ."]\n`);
    const fromToml = await startKernelWith("pyproject", () => undefined, path.join(pyproject, "nb.ipynb"));
    expect(fromToml.message).toContain(`"-e ." in ${path.join(pyproject, "pyproject.toml")} [dependency-groups] dev`);

    const conda = path.join(projects, "yml");
    fs.mkdirSync(conda);
    fs.writeFileSync(path.join(conda, "environment.yml"), `dependencies:\n- python=3.11\n- pip:\n  - ${EVIL}\n`);
    const fromYml = await startKernelWith("env-yml", () => undefined, path.join(conda, "nb.ipynb"));
    expect(fromYml.message).toContain(`"${EVIL}" in ${path.join(conda, "environment.yml")}, line 4, pip`);
    expect(fs.existsSync(installerLog)).toBe(false);
  });

  it("a valid inline dependency does reach uv, after -- so that uv reads it as a requirement", async () => {
    // The stand-in uv fails to install, so the build fails; what matters is the command line it was given.
    await startKernelWith("inline-valid", (session) => session.setMetadata("uv", JSON.stringify({ dependencies: ["numpy>=1.26"] })));
    const lines = fs.readFileSync(installerLog, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^uv venv \S+$/);
    expect(lines[1]).toMatch(/^uv pip install --python \S+ -- ipykernel numpy>=1\.26$/);
    fs.rmSync(installerLog);
  });
});
