import { spawn } from "node:child_process";
import * as path from "node:path";
import { removeDir, startTestDaemon, type TestRoom } from "./integration/harness";

jest.setTimeout(180_000);

let room: TestRoom;

beforeAll(async () => {
  room = await startTestDaemon();
});

afterAll(async () => {
  await room?.dispose();
  if (room) removeDir(room.cacheDir);
});

/** Runs an example as a user would, against this test's daemon. */
function runExample(name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", require.resolve("tsx"), path.join(__dirname, "..", "examples", name)], {
      env: { ...process.env, RUNTIMED_SOCKET_PATH: room.socketPath, RUNTIMED_CACHE_DIR: room.cacheDir },
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

describe("examples run as written", () => {
  it("quickstart prints streamed lines and the result", async () => {
    const { code, stdout, stderr } = await runExample("quickstart.ts");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("stdout: line 2");
    expect(stdout).toContain("success: true");
    expect(stdout).toContain('value: "42"');
  });

  it("stream-progress renders the bar and stores its last frame", async () => {
    const { code, stdout } = await runExample("stream-progress.ts");
    expect(code).toBe(0);
    expect(stdout).toContain("\rtraining [");
    expect(stdout).toContain('stored output: "training [##############################] 100%\\ndone\\n"');
  });

  it("pipeline runs load, transform and plot in order", async () => {
    const { code, stdout } = await runExample("pipeline.ts");
    expect(code).toBe(0);
    expect(stdout).toContain("loaded 7 rows");
    expect(stdout).toMatch(/rich output: .*image\/svg\+xml/);
    expect(stdout).toContain("  | weekly visits: ");
    expect(stdout).toMatch(/cell 1: ok\ncell 2: ok\ncell 3: ok/);
  });

  it("observer narrates another process's edits and runs", async () => {
    const { code, stdout } = await runExample("observer.ts");
    expect(code).toBe(0);
    expect(stdout).toContain("[observer] cells: x = 7");
    expect(stdout).toContain('[observer] output: "x * 6 = 42\\n"');
  });
});
