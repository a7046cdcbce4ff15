import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Subscription } from "rxjs";
import type { EnvProgressEvent } from "../../lib/session/types";
import { DaemonClient } from "../../lib/transport/daemon-client";
import { buildWheel, onPath } from "../env/fixtures";
import { expectCode, removeDir, startTestDaemon, type TestRoom } from "./harness";

jest.setTimeout(120_000);

const WAIT_MS = 60_000;

const uvInstalled = onPath("uv");
const condaInstalled = ["micromamba", "mamba", "conda"].some(onPath);
/** What `startKernel()` must report here: the first backend that exists, in uv, conda, venv order. */
const defaultLabel = uvInstalled ? "uv:prewarmed" : condaInstalled ? "conda:prewarmed" : "venv:prewarmed";
/** Pip-style deps (inline uv deps, pyproject.toml) are built by uv when present, else by venv + pip. */
const pipBackend = uvInstalled ? "uv" : "venv";


async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Collects a session's envProgress$ events until stopped. */
function recordProgress(progress$: { subscribe(next: (event: EnvProgressEvent) => void): Subscription }) {
  const seen: EnvProgressEvent[] = [];
  const subscription = progress$.subscribe((event) => seen.push(event));
  return { seen, stop: () => subscription.unsubscribe() };
}

describe("environments chosen for a notebook", () => {
  let room: TestRoom;
  let projects: string;

  beforeAll(async () => {
    room = await startTestDaemon();
    projects = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-projects-"));
    // A repository root, so the upward search for project files stops inside the temp dir.
    fs.mkdirSync(path.join(projects, ".git"));
  });

  afterAll(async () => {
    await room?.dispose();
    if (room) removeDir(room.cacheDir);
    if (projects) removeDir(projects);
  });

  it(`the default environment is a prewarmed one from the daemon's pool, labelled ${defaultLabel}`, async () => {
    const session = room.session({ notebookId: "default-env" });
    await session.connect();
    await session.startKernel();
    expect(session.envSource).toBe(defaultLabel);
    expect((await session.kernelInfo()).env_source).toBe(defaultLabel);
    const result = await session.run("import sys\nprint(sys.prefix)\nprint(sys.prefix != sys.base_prefix)");
    const [prefix, isolated] = result.stdout.trim().split("\n");
    expect(fs.realpathSync(prefix!).startsWith(path.join(fs.realpathSync(room.cacheDir), "envs") + path.sep)).toBe(true);
    expect(isolated).toBe("True");
  });

  it("inline dependencies that cannot be installed fail ENV_FAILED with the installer's message, and no kernel starts", async () => {
    const session = room.session({ notebookId: "inline-unreachable" });
    await session.connect();
    session.setMetadata("uv", JSON.stringify({ dependencies: ["definitely-not-a-real-package-xyz"] }));
    // launch_kernel carries no document heads: make sure the daemon has the metadata first.
    await session.flush();
    const progress = recordProgress(session.envProgress$);
    try {
      const error = await expectCode(session.startKernel(), "ENV_FAILED");
      expect(error.message).toContain("definitely-not-a-real-package-xyz");
      if (!uvInstalled) expect(error.message).toMatch(/No matching distribution found for definitely-not-a-real-package-xyz/);
    } finally {
      progress.stop();
    }
    expect(progress.seen.map((event) => event.phase)).toEqual(expect.arrayContaining(["creating", "failed"]));
    // No silent fallback to another environment: the room has no kernel at all.
    expect(session.kernelStarted).toBe(false);
    const info = await session.kernelInfo();
    expect(info.status).toBe("not_started");
    expect(info.env_source).toBeNull();
  });

  it(`a notebook in a project with a pyproject.toml runs in an environment with its dependencies, labelled ${pipBackend}:pyproject, in the notebook's directory`, async () => {
    const project = path.join(projects, "with-wheel");
    const notebooks = path.join(project, "notebooks");
    fs.mkdirSync(notebooks, { recursive: true });
    const wheel = buildWheel(project, "runtimed_fixture_pkg", "1.0");
    fs.writeFileSync(
      path.join(project, "pyproject.toml"),
      `[project]\nname = "fixture"\nversion = "0.1.0"\ndependencies = ["runtimed_fixture_pkg @ file://${wheel}"]\n`,
    );
    const session = room.session({ notebookId: "pyproject-wheel" });
    await session.connect();
    const progress = recordProgress(session.envProgress$);
    try {
      await session.startKernel({ notebookPath: path.join(notebooks, "analysis.ipynb") });
    } finally {
      progress.stop();
    }
    expect(session.envSource).toBe(`${pipBackend}:pyproject`);
    expect(progress.seen.map((event) => event.phase)).toEqual(expect.arrayContaining(["creating", "ready"]));
    const result = await session.run("import os, runtimed_fixture_pkg\nprint(runtimed_fixture_pkg.GREETING)\nprint(os.getcwd())");
    expect(result.stdout.trim().split("\n")).toEqual(["hello from runtimed_fixture_pkg", fs.realpathSync(notebooks)]);
  });

  it("a pyproject.toml whose dependencies are unreachable fails ENV_FAILED naming them, with no kernel started", async () => {
    const project = path.join(projects, "unreachable");
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(
      path.join(project, "pyproject.toml"),
      `[project]\nname = "unreachable"\nversion = "0.1.0"\ndependencies = ["another-missing-package-xyz>=1"]\n`,
    );
    const session = room.session({ notebookId: "pyproject-unreachable" });
    await session.connect();
    const error = await expectCode(session.startKernel({ notebookPath: path.join(project, "nb.ipynb") }), "ENV_FAILED");
    expect(error.message).toContain("another-missing-package-xyz");
    expect(session.kernelStarted).toBe(false);
  });

  it("a notebook path outside any project gets the default environment and runs in the notebook's directory", async () => {
    const plain = path.join(projects, "plain");
    fs.mkdirSync(plain, { recursive: true });
    const session = room.session({ notebookId: "plain-dir" });
    await session.connect();
    await session.startKernel({ notebookPath: path.join(plain, "nb.ipynb") });
    expect(session.envSource).toBe(defaultLabel);
    const result = await session.run("import os\nprint(os.getcwd())");
    expect(result.stdout.trim()).toBe(fs.realpathSync(plain));
  });

  if (uvInstalled) {
    it("inline uv dependencies build with uv and say uv:inline", async () => {
      const session = room.session({ notebookId: "inline-uv" });
      await session.connect();
      session.setMetadata("uv", JSON.stringify({ dependencies: [] }));
      await session.flush();
      await session.startKernel();
      expect(session.envSource).toBe("uv:inline");
    });
  } else {
    it("uv environments — skipped: uv is not installed on this machine", () => {
      expect(uvInstalled).toBe(false);
      expect(onPath("uv")).toBe(false);
    });
  }
});

describe("the prewarmed pool", () => {
  const previous = { size: process.env.RUNTIMED_POOL_SIZE, prewarm: process.env.RUNTIMED_PREWARM_KERNEL };

  afterEach(() => {
    for (const [name, value] of [
      ["RUNTIMED_POOL_SIZE", previous.size],
      ["RUNTIMED_PREWARM_KERNEL", previous.prewarm],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("hands the first kernel out of the pool and replenishes both environments and the running kernel", async () => {
    process.env.RUNTIMED_POOL_SIZE = "1";
    process.env.RUNTIMED_PREWARM_KERNEL = "1";
    const room = await startTestDaemon();
    try {
      const client = new DaemonClient({ socketPath: room.socketPath });
      const backend = defaultLabel.split(":")[0];
      const poolIsFull = async () => {
        const pool = (await client.status()).pool;
        const envs = pool.find((row) => row.backend === backend);
        const kernel = pool.find((row) => row.backend === "kernel");
        return envs?.ready === 1 && kernel?.ready === 1 ? pool : undefined;
      };
      await eventually(poolIsFull, "the pool to fill");

      const session = room.session({ notebookId: "from-the-pool" });
      await session.connect();
      await session.startKernel();
      expect(session.envSource).toBe(defaultLabel);
      const { pid } = await session.kernelInfo();
      const log = fs.readFileSync(path.join(room.cacheDir, "daemon.log"), "utf8");
      expect(log).toMatch(new RegExp(`prewarmed kernel handed out .*"pid":${pid}\\b`));
      expect((await session.run("21 * 2")).success).toBe(true);

      const refilled = await eventually(poolIsFull, "the pool to replenish");
      expect(refilled.find((row) => row.backend === "kernel")).toEqual({ backend: "kernel", ready: 1, building: 0 });
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("flushPool replaces the prewarmed kernel and stops the old one", async () => {
    process.env.RUNTIMED_POOL_SIZE = "1";
    process.env.RUNTIMED_PREWARM_KERNEL = "1";
    const room = await startTestDaemon();
    try {
      const client = new DaemonClient({ socketPath: room.socketPath });
      const prewarmedPids = () =>
        [...fs.readFileSync(path.join(room.cacheDir, "daemon.log"), "utf8").matchAll(/kernel prewarmed .*"pid":(\d+)/g)].map((match) => Number(match[1]));
      const kernelReady = async () => ((await client.status()).pool.find((row) => row.backend === "kernel")?.ready === 1 ? true : undefined);
      await eventually(kernelReady, "a prewarmed kernel");
      const [oldPid] = prewarmedPids();

      await client.flushPool();
      await eventually(kernelReady, "a fresh prewarmed kernel");
      const pids = prewarmedPids();
      expect(pids).toHaveLength(2);
      expect(pids[1]).not.toBe(oldPid);
      expect(() => process.kill(oldPid!, 0)).toThrow();
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("RUNTIMED_PREWARM_KERNEL=0 keeps environments warm but no running kernel", async () => {
    process.env.RUNTIMED_PREWARM_KERNEL = "0";
    process.env.RUNTIMED_POOL_SIZE = "1";
    const room = await startTestDaemon();
    try {
      const client = new DaemonClient({ socketPath: room.socketPath });
      const backend = defaultLabel.split(":")[0];
      const pool = await eventually(async () => {
        const rows = (await client.status()).pool;
        return rows.find((row) => row.backend === backend)?.ready === 1 ? rows : undefined;
      }, "the environment pool to fill");
      expect(pool.map((row) => row.backend)).not.toContain("kernel");
      const session = room.session({ notebookId: "no-prewarmed-kernel" });
      await session.connect();
      await session.startKernel();
      expect(session.envSource).toBe(defaultLabel);
      expect(fs.readFileSync(path.join(room.cacheDir, "daemon.log"), "utf8")).not.toContain("prewarmed kernel handed out");
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });
});
