/**
 * A machine with Node but no Python that can run ipykernel. `RUNTIMED_PYTHON=""` tells the
 * daemon to try no interpreter at all (see lib/kernel/python-search.ts), and PATH leaves out uv
 * and conda, so the daemon sees exactly what such a machine offers: the Deno kernel from npm.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Session } from "../../lib/session/session";
import { expectCode } from "../integration/harness";
import { pathWithoutBuildTools } from "./environment";
import { makeTempDir, removeDaemonProcess, removeDaemonsOf, spawnDaemonProcess, within } from "./processes";

jest.setTimeout(180_000);

const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** The environment of a machine with only Node: no Python to try, no uv, no conda. */
function nodeOnlyEnv(cacheDir: string): NodeJS.ProcessEnv {
  return {
    RUNTIMED_PYTHON: "",
    PATH: pathWithoutBuildTools(),
    RUNTIMED_CACHE_DIR: cacheDir,
    RUNTIMED_SOCKET_PATH: path.join(cacheDir, "runtimed.sock"),
  };
}

function daemonLog(cacheDir: string): string[] {
  return fs.readFileSync(path.join(cacheDir, "daemon.log"), "utf8").split("\n").filter((line) => line !== "");
}

/** Runs examples/quickstart.ts as `npm run quickstart` does, with `env` over this process's environment. */
function runQuickstart(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", require.resolve("tsx"), path.join(REPO_ROOT, "examples", "quickstart.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("a machine with Node but no Python that can import ipykernel (RUNTIMED_PYTHON empty, no uv or conda on PATH)", () => {
  it("npm run quickstart says so in one line with the install command, and runs its cell on the Deno kernel", async () => {
    const cacheDir = makeTempDir("no-python-quickstart");
    try {
      const { code, stdout, stderr } = await runQuickstart(nodeOnlyEnv(cacheDir));
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const lines = stdout.split("\n");
      const notice = lines.filter((line) => line.includes("ipykernel"));
      expect(notice).toEqual([
        "No Python that can import ipykernel was found (RUNTIMED_PYTHON names none); install it with " +
          "`apt-get install python3-ipykernel python3-venv` (Debian, Ubuntu) or `pip install ipykernel`. Using the Deno kernel instead.",
      ]);
      expect(lines).toEqual(expect.arrayContaining(["  stdout: line 0", "  stdout: line 2", "environment: deno", "success: true, execution count: 1"]));
      expect(stdout).toMatch(/value: .*42/);
      // The prewarm pools noticed once that there is no backend; they did not retry in a loop.
      const log = daemonLog(cacheDir);
      expect(log.filter((line) => line.includes("no Python environment backend"))).toHaveLength(1);
      expect(log.filter((line) => /could not prewarm|pool did not start/.test(line))).toEqual([]);
    } finally {
      await removeDaemonsOf(cacheDir, 15_000);
    }
  });

  it("startKernel({ kernelType: 'python' }) fails with KERNEL_FAILED naming what is missing, every time, while Deno still works", async () => {
    const cacheDir = makeTempDir("no-python-start");
    const daemon = await spawnDaemonProcess(cacheDir, nodeOnlyEnv(cacheDir));
    const session = new Session({ notebookId: "no-python", socketPath: daemon.socketPath, cacheDir, autoStart: false });
    try {
      await session.connect();
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await within("startKernel", expectCode(session.startKernel({ kernelType: "python" }), "KERNEL_FAILED"), 60_000);
        expect(error.message).toBe(
          "No Python that can import ipykernel was found (RUNTIMED_PYTHON names none); install it with " +
            "`apt-get install python3-ipykernel python3-venv` (Debian, Ubuntu) or `pip install ipykernel`",
        );
      }
      // An execution, which starts the default (Python) kernel, ends unsuccessfully the same clear way.
      const failed = await session.run("1 + 1");
      expect(failed).toMatchObject({ success: false, error: { ename: "KERNEL_FAILED", evalue: expect.stringContaining("pip install ipykernel") } });
      expect(session.kernelStarted).toBe(false);

      await session.startKernel({ kernelType: "deno" });
      const result = await session.run("console.log(6 * 7)");
      expect(result).toMatchObject({ success: true, stdout: "42\n" });

      const log = daemonLog(cacheDir);
      expect(log.filter((line) => line.includes("no Python environment backend"))).toHaveLength(1);
      expect(log.filter((line) => /could not prewarm|pool did not start/.test(line))).toEqual([]);
      // Nothing tried to build an environment.
      expect(fs.existsSync(path.join(cacheDir, "envs")) ? fs.readdirSync(path.join(cacheDir, "envs")) : []).toEqual([]);
    } finally {
      await session.close().catch(() => undefined);
      await removeDaemonProcess(daemon, cacheDir);
    }
  });
});
