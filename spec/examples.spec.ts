import * as path from "node:path";
import { runTsFile, useTestDaemon } from "./integration/harness";

jest.setTimeout(180_000);

const testDaemon = useTestDaemon();

/** Runs an example as a user would, against this test's daemon. */
function runExample(name: string) {
  return runTsFile(path.join(__dirname, "..", "examples", name), testDaemon());
}

describe("examples run as written", () => {
  it("quickstart prints streamed lines and the result", async () => {
    const { code, stdout, stderr } = await runExample("quickstart.ts");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("stdout: line 2");
    expect(stdout).toContain("success: true");
    expect(stdout).toContain("value: 42\n");
  });

  it("stream-progress renders the bar and stores its last frame", async () => {
    const { code, stdout, stderr } = await runExample("stream-progress.ts");
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(stdout).toContain("\rtraining [");
    expect(stdout).toContain('stored output: "training [##############################] 100%\\ndone\\n"');
  });

  it("pipeline runs load, transform and plot in order", async () => {
    const { code, stdout, stderr } = await runExample("pipeline.ts");
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(stdout).toContain("loaded 7 rows");
    expect(stdout).toMatch(/rich output: .*image\/svg\+xml/);
    expect(stdout).toContain("  | weekly visits: ");
    expect(stdout).toMatch(/cell 1: ok\ncell 2: ok\ncell 3: ok/);
  });

  it("observer narrates another process's edits and runs", async () => {
    const { code, stdout, stderr } = await runExample("observer.ts");
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(stdout).toContain("[observer] cells: x = 7");
    expect(stdout).toContain('[observer] output: "x * 6 = 42\\n"');
  });
});
