import type * as nbformat from "@jupyterlab/nbformat";
import { UsageError, splitGlobalOptions } from "../../lib/cli/args";
import { formatDuration, formatTable } from "../../lib/cli/format";
import { OutputPrinter } from "../../lib/cli/output-printer";
import { ProgressBar } from "../../lib/cli/progress-bar";

/** A terminal or pipe that keeps what was written to it. */
class CapturedStream {
  text = "";
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function stream(name: "stdout" | "stderr", text: string): nbformat.IStream {
  return { output_type: "stream", name, text };
}

describe("ProgressBar", () => {
  it("renders done/total with an arrow head", () => {
    // 23 columns leave 10 for the bar itself.
    const bar = new ProgressBar(new CapturedStream(true, 23), 7, "cells");
    bar.update(3);
    expect(bar.render()).toBe("[===>      ] 3/7 cells");
    bar.update(7);
    expect(bar.render()).toBe("[==========] 7/7 cells");
  });

  it("redraws in place on a terminal and draws nothing after stop()", () => {
    const terminal = new CapturedStream(true, 60);
    const bar = new ProgressBar(terminal, 2, "cells");
    bar.update(1);
    bar.stop();
    bar.update(2);
    expect(terminal.text).toBe(`\r\x1b[2K${"[" + "=".repeat(19) + ">" + " ".repeat(20) + "]"} 1/2 cells\r\x1b[2K`);
  });

  it("draws nothing when the stream is not a terminal", () => {
    const pipe = new CapturedStream(false);
    const bar = new ProgressBar(pipe, 3, "cells");
    bar.update(2);
    bar.stop();
    expect(bar.enabled).toBe(false);
    expect(pipe.text).toBe("");
  });
});

describe("OutputPrinter", () => {
  it("prints only the new part of a growing stream output", () => {
    const stdout = new CapturedStream(false);
    const printer = new OutputPrinter(stdout, new CapturedStream(false));
    printer.show(0, stream("stdout", "a\n"));
    printer.show(0, stream("stdout", "a\nb\n"));
    printer.show(0, stream("stdout", "a\nb\nc"));
    expect(stdout.text).toBe("a\nb\nc");
    expect(printer.atLineStart).toBe(false);
    printer.endLine();
    expect(stdout.text).toBe("a\nb\nc\n");
  });

  it("rewrites the last line when the kernel overwrote it with \\r", () => {
    const stdout = new CapturedStream(true);
    const printer = new OutputPrinter(stdout, new CapturedStream(true));
    printer.show(0, stream("stdout", "done\n10%"));
    printer.show(0, stream("stdout", "done\n50%"));
    expect(stdout.text).toBe("done\n10%\r50%");
  });

  it("sends stderr and tracebacks to stderr, results to stdout, and strips colours off a pipe", () => {
    const stdout = new CapturedStream(false);
    const stderr = new CapturedStream(false);
    const printer = new OutputPrinter(stdout, stderr);
    printer.show(0, stream("stderr", "warning\n"));
    printer.show(1, { output_type: "execute_result", execution_count: 1, data: { "text/plain": "42" }, metadata: {} });
    printer.show(2, { output_type: "display_data", data: { "image/png": "iVBOR" }, metadata: {} });
    printer.show(3, { output_type: "error", ename: "ValueError", evalue: "bad", traceback: ["\x1b[31mValueError\x1b[0m: bad"] });
    expect(stdout.text).toBe("42\n[image/png output]\n");
    expect(stderr.text).toBe("warning\nValueError: bad\n");
  });

  it("calls its hooks around each write so a progress bar can step aside", () => {
    const calls: string[] = [];
    const printer = new OutputPrinter(new CapturedStream(false), new CapturedStream(false), {
      beforeWrite: () => calls.push("before"),
      afterWrite: (atLineStart) => calls.push(`after ${atLineStart}`),
    });
    printer.show(0, stream("stdout", "partial"));
    printer.notice("done");
    expect(calls).toEqual(["before", "after false", "before", "after true", "before", "after true"]);
  });
});

describe("command-line helpers", () => {
  it("takes global options out of argv wherever they stand", () => {
    expect(splitGlobalOptions(["--socket", "/s", "daemon", "status", "--cache-dir=/c", "--json"])).toEqual({
      globals: { socketPath: "/s", cacheDir: "/c" },
      rest: ["daemon", "status", "--json"],
    });
    expect(splitGlobalOptions(["run", "--", "--socket"]).rest).toEqual(["run", "--", "--socket"]);
    expect(() => splitGlobalOptions(["rooms", "--socket"])).toThrow(UsageError);
  });

  it("formats tables and durations for people", () => {
    expect(formatTable(["A", "LONGER"], [["xyz", "1"], ["q", ""]])).toBe("A    LONGER\nxyz  1\nq\n");
    expect([5, 192, 7500, 100_000].map(formatDuration)).toEqual(["5s", "3m 12s", "2h 5m", "1d 3h"]);
  });
});
