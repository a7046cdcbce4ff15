import * as fs from "node:fs";
import * as path from "node:path";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { runCli, startCli, stopCli } from "./cli-process";

jest.setTimeout(180_000);

interface NotebookJson {
  cells: { cell_type: string; source: string | string[]; execution_count?: number | null; outputs?: Record<string, unknown>[] }[];
}

/** A minimal nbformat 4.5 notebook with one cell per `(type, source)`. */
function notebook(cells: [cellType: "code" | "markdown", source: string][]): string {
  return (
    JSON.stringify(
      {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
        cells: cells.map(([cellType, source], index) => ({
          cell_type: cellType,
          id: `fixture-${index}`,
          metadata: {},
          source,
          ...(cellType === "code" ? { execution_count: null, outputs: [] } : {}),
        })),
      },
      null,
      1,
    ) + "\n"
  );
}

function readNotebook(file: string): NotebookJson {
  return JSON.parse(fs.readFileSync(file, "utf8")) as NotebookJson;
}

function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value);
}

describe("runtimed run", () => {
  let room: TestRoom;
  let dir: string;
  let at: string[];

  beforeAll(async () => {
    room = await startTestDaemon();
    dir = fs.mkdtempSync(path.join(room.cacheDir, "notebooks-"));
    at = ["--socket", room.socketPath, "--cache-dir", room.cacheDir];
  });

  afterAll(async () => {
    await room.dispose();
    removeDir(room.cacheDir);
  });

  function fixture(name: string, cells: [cellType: "code" | "markdown", source: string][]): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, notebook(cells));
    return file;
  }

  it("executes every code cell in order, prints live output and writes the results with -o", async () => {
    const source = fixture("steps.ipynb", [
      ["markdown", "# Steps"],
      ["code", "for i in range(3):\n    print('step', i)"],
      ["code", "x = 6 * 7\nx"],
      ["code", "import sys\nprint('careful', file=sys.stderr)"],
    ]);
    const before = fs.readFileSync(source, "utf8");
    const output = path.join(dir, "steps.out.ipynb");
    const result = await runCli(["run", source, "-o", output, ...at]);
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.stdout).toContain("step 0\nstep 1\nstep 2\n");
    expect(result.stdout).toContain("42\n");
    expect(result.stderr).toContain("careful");
    expect(result.stderr).toContain("Running 3 code cells of steps.ipynb");
    expect(result.stderr).toContain("Ran 3 cells");
    expect(result.stderr).toContain(`Wrote ${output}`);
    // Not a terminal: no progress bar, no escape codes.
    expect(result.stderr).not.toContain("\x1b[");

    expect(fs.readFileSync(source, "utf8")).toBe(before);
    const written = readNotebook(output);
    const code = written.cells.filter((cell) => cell.cell_type === "code");
    expect(code.map((cell) => cell.execution_count)).toEqual([1, 2, 3]);
    expect(text(code[0]!.outputs![0]!.text)).toBe("step 0\nstep 1\nstep 2\n");
    expect(code[1]!.outputs![0]).toMatchObject({ output_type: "execute_result", execution_count: 2 });
    expect(text((code[1]!.outputs![0]!.data as Record<string, unknown>)["text/plain"])).toBe("42");
    expect(written.cells[0]).toMatchObject({ cell_type: "markdown" });
  });

  it("--inplace writes the results into the notebook itself", async () => {
    const file = fixture("inplace.ipynb", [["code", "print('in place')"]]);
    const result = await runCli(["run", "--inplace", file, ...at]);
    expect(result).toMatchObject({ exitCode: 0 });
    const cell = readNotebook(file).cells[0]!;
    expect(cell.execution_count).toBe(1);
    expect(text(cell.outputs![0]!.text)).toBe("in place\n");
  });

  it("a failing cell stops the run with exit code 1, and the traceback is still written", async () => {
    const file = fixture("fails.ipynb", [
      ["code", "print('before')"],
      ["code", "1 / 0"],
      ["code", "print('after')"],
    ]);
    const output = path.join(dir, "fails.out.ipynb");
    const result = await runCli(["run", file, "-o", output, ...at]);
    expect(result).toMatchObject({ exitCode: 1 });
    expect(result.stdout).toContain("before");
    expect(result.stdout).not.toContain("after");
    expect(result.stderr).toContain("ZeroDivisionError");
    expect(result.stderr).toContain("Cell 2 of 3 failed: ZeroDivisionError: division by zero; 1 cell not run.");
    const cells = readNotebook(output).cells;
    expect(cells[1]!.outputs![0]).toMatchObject({ output_type: "error", ename: "ZeroDivisionError" });
    expect(cells[2]!.outputs).toEqual([]);
  });

  it("--continue-on-error runs the remaining cells but still exits 1", async () => {
    const file = fixture("continues.ipynb", [
      ["code", "raise ValueError('bad input')"],
      ["code", "print('after')"],
    ]);
    const result = await runCli(["run", file, "--continue-on-error", ...at]);
    expect(result).toMatchObject({ exitCode: 1 });
    expect(result.stdout).toContain("after");
    expect(result.stderr).toContain("1 of 2 cells failed");
    expect(result.stderr).toContain("ValueError: bad input");
    expect(result.stderr).toContain("Results not written (use --inplace or -o FILE to keep them).");
  });

  it("--timeout gives up on a cell that runs too long", async () => {
    const file = fixture("slow.ipynb", [
      ["code", "import time\nfor _ in range(1200):\n    time.sleep(0.05)"],
      ["code", "print('never')"],
    ]);
    const result = await runCli(["run", file, "--timeout", "2", ...at]);
    expect(result).toMatchObject({ exitCode: 1 });
    expect(result.stderr).toMatch(/Cell 1 of 2 failed: .*did not finish within 2 s.*\(set the limit with --timeout SECS, 0 for none\)/);
    expect(result.stdout).not.toContain("never");
  });

  it("a cell that calls input() fails at once, saying batch mode has no stdin, instead of waiting forever", async () => {
    const file = fixture("asks.ipynb", [
      ["code", "print('before the question')"],
      ["code", "name = input('Your name? ')\nprint('hello', name)"],
      ["code", "print('after')"],
    ]);
    const output = path.join(dir, "asks.out.ipynb");
    // No --timeout: the run must end on its own, well before the default per-cell limit.
    const result = await runCli(["run", file, "-o", output, ...at], { timeoutMs: 90_000 });
    expect(result).toMatchObject({ exitCode: 1 });
    expect(result.stdout).toContain("before the question");
    expect(result.stdout).not.toContain("hello");
    expect(result.stdout).not.toContain("after");
    expect(result.stderr).toContain(
      "Cell 2 of 3 failed: the cell asked for input (input() or getpass), but runtimed run has no stdin in batch mode; set the value in the notebook instead; 1 cell not run.",
    );
    const cells = readNotebook(output).cells;
    expect(cells[1]!.outputs).toEqual([expect.objectContaining({ output_type: "error", ename: "StdinNotImplementedError" })]);
  });

  it("documents the default per-cell timeout and batch mode's missing stdin in its help", async () => {
    const help = await runCli(["run", "--help"]);
    expect(help).toMatchObject({ exitCode: 0 });
    expect(help.stdout).toContain("--timeout SECS        Give up on a cell after SECS seconds (default: 600; 0: no limit)");
    expect(help.stdout).toContain("A batch run has no stdin");
  });

  it("runs what is on disk, even when the daemon still holds the notebook from an earlier run", async () => {
    const file = fixture("edited.ipynb", [["code", "print('first version')"]]);
    const first = await runCli(["run", file, ...at]);
    expect(first.stdout).toContain("first version");
    fs.writeFileSync(file, notebook([["code", "print('second version')"]]));
    const second = await runCli(["run", file, ...at]);
    expect(second).toMatchObject({ exitCode: 0 });
    expect(second.stdout).toContain("second version");
    expect(second.stdout).not.toContain("first version");
  });

  it("Ctrl-C cancels the running cell, writes nothing and exits 130", async () => {
    const file = fixture("interrupted.ipynb", [["code", "import time\nprint('working', flush=True)\nfor _ in range(1200):\n    time.sleep(0.05)"]]);
    const before = fs.readFileSync(file, "utf8");
    const running = startCli(["run", file, "--inplace", ...at]);
    try {
      await running.waitForOutput(/working/, 60_000);
      running.child.kill("SIGINT");
      const result = await running.exited;
      expect(result).toMatchObject({ exitCode: 130 });
      expect(result.stderr).toContain("Interrupted; the notebook was not written.");
      expect(fs.readFileSync(file, "utf8")).toBe(before);
    } finally {
      await stopCli(running);
    }
  });

  it("says what is wrong with the command line or the file", async () => {
    const missing = await runCli(["run", path.join(dir, "nope.ipynb"), ...at]);
    expect(missing).toMatchObject({ exitCode: 1 });
    expect(missing.stderr).toContain(`No notebook at ${path.join(dir, "nope.ipynb")}`);

    const notJson = path.join(dir, "broken.ipynb");
    fs.writeFileSync(notJson, "{ not json");
    const broken = await runCli(["run", notJson, ...at]);
    expect(broken).toMatchObject({ exitCode: 1 });
    expect(broken.stderr).toContain(`${notJson} is not a notebook (invalid JSON`);

    const both = await runCli(["run", notJson, "--inplace", "-o", "x.ipynb", ...at]);
    expect(both).toMatchObject({ exitCode: 2 });
    expect(both.stderr).toContain("Use either --inplace or -o FILE, not both");
    expect(both.stderr).toContain("See `runtimed run --help`");

    const none = await runCli(["run", ...at]);
    expect(none).toMatchObject({ exitCode: 2 });
    expect(none.stderr).toContain("Which notebook?");
  });
});
