/**
 * Project files as people really write them, read through a real daemon: an environment.yml
 * whose lists start at column 0, a pyproject.toml with dotted keys and a dependency group.
 * The daemon runs with uv and conda left off PATH, so conda-only projects meet the machine
 * this suite runs on, and pip-style ones are built by the venv backend from a local wheel.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Session } from "../../lib/session/session";
import { buildWheel } from "../env/fixtures";
import { expectCode } from "../integration/harness";
import { NO_PREWARMING, pathWithoutBuildTools } from "./environment";
import { makeTempDir, removeDaemonProcess, spawnDaemonProcess, type DaemonProcess } from "./processes";

jest.setTimeout(180_000);

describe("project files read with real TOML and YAML parsers (no uv or conda on PATH)", () => {
  let cacheDir: string;
  let projects: string;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    cacheDir = makeTempDir("project-files");
    projects = path.join(cacheDir, "projects");
    fs.mkdirSync(path.join(projects, ".git"), { recursive: true });
    daemon = await spawnDaemonProcess(cacheDir, { ...NO_PREWARMING, PATH: pathWithoutBuildTools() });
  });

  afterAll(async () => {
    await removeDaemonProcess(daemon, cacheDir);
  });

  function session(notebookId: string): Session {
    return new Session({ notebookId, socketPath: daemon.socketPath, cacheDir, autoStart: false });
  }

  it("an environment.yml with column-0 lists fails with ENV_FAILED saying conda is missing, not with a parse error", async () => {
    const dir = path.join(projects, "conda-only");
    fs.mkdirSync(dir);
    const file = path.join(dir, "environment.yml");
    fs.writeFileSync(file, "name: demo\nchannels:\n- conda-forge\ndependencies:\n- python=3.11\n- numpy  # arrays\n- pip:\n  - rich\n");
    const client = session("conda-only");
    try {
      await client.connect();
      const error = await expectCode(client.startKernel({ notebookPath: path.join(dir, "nb.ipynb") }), "ENV_FAILED");
      expect(error.message).toBe(
        `${file} needs conda, but none of micromamba, mamba or conda is installed; install micromamba (https://mamba.readthedocs.io) or choose another envSource`,
      );
    } finally {
      await client.close();
    }
  });

  it("a pyproject.toml with dotted keys installs [project] dependencies and the dev group, not other groups", async () => {
    const dir = path.join(projects, "grouped");
    fs.mkdirSync(path.join(dir, "notebooks"), { recursive: true });
    const main = buildWheel(dir, "runtimed_main_pkg");
    const dev = buildWheel(dir, "runtimed_dev_pkg");
    fs.writeFileSync(
      path.join(dir, "pyproject.toml"),
      [
        'project.name = "grouped"',
        'project.version = "0.1.0"',
        `project.dependencies = ["runtimed_main_pkg @ file://${main}"]`,
        "",
        "[dependency-groups]",
        `test = ["runtimed_dev_pkg @ file://${dev}"]`,
        'dev = [{ include-group = "test" }]',
        'docs = ["a-docs-package-that-does-not-exist"]',
        "",
      ].join("\n"),
    );
    const client = session("grouped");
    try {
      await client.connect();
      await client.startKernel({ notebookPath: path.join(dir, "notebooks", "nb.ipynb") });
      expect(client.envSource).toBe("venv:pyproject");
      const result = await client.run("import runtimed_main_pkg, runtimed_dev_pkg\nprint(runtimed_main_pkg.GREETING)\nprint(runtimed_dev_pkg.GREETING)");
      expect(result.stdout).toBe("hello from runtimed_main_pkg\nhello from runtimed_dev_pkg\n");
    } finally {
      await client.close({ shutdownKernel: true });
    }
  });

  it("a pyproject.toml with a TOML syntax error fails with ENV_FAILED naming the file and line", async () => {
    const dir = path.join(projects, "broken");
    fs.mkdirSync(dir);
    const file = path.join(dir, "pyproject.toml");
    fs.writeFileSync(file, '[project]\nname = "broken"\ndependencies = [\n  "numpy",\n  pandas,\n]\n');
    const client = session("broken");
    try {
      await client.connect();
      const error = await expectCode(client.startKernel({ notebookPath: path.join(dir, "nb.ipynb") }), "ENV_FAILED");
      expect(error.message).toMatch(new RegExp(`^Cannot read ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}, line 5, column \\d+: `));
    } finally {
      await client.close();
    }
  });
});
