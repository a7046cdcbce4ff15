import type { OperatorFunction } from "rxjs";
import { TestScheduler } from "rxjs/testing";
import {
  displayData,
  errors,
  ExecutionFailedError,
  executionCount,
  latestOutputs,
  mimeData,
  outputs,
  stderr,
  stdout,
  streamText,
  throwOnError,
  toResult,
} from "../../lib/session/operators";
import type { ExecutionEvent } from "../../lib/session/types";
import { display, errorOutput, eventsOf, executeResult, resultOf, stream } from "./execution-events";

const run = eventsOf("cell-1");
const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe("execution operators", () => {
  describe("outputs()", () => {
    it("emits each output as it arrives or changes and ignores the other events", () => {
      const hello = stream("stdout", "hello\n");
      const helloWorld = stream("stdout", "hello\nworld\n");
      const plot = display({ "image/png": "iVBOR" });
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("q-s-a-b-c-(r|)", {
          q: run.queued(),
          s: run.started(1),
          a: run.output(0, hello),
          b: run.output(0, helloWorld),
          c: run.output(1, plot),
          r: run.result(true, [helloWorld, plot]),
        });
        expectObservable(events$.pipe(outputs())).toBe("----a-b-c-|", { a: hello, b: helloWorld, c: plot });
      });
    });
  });

  describe("stdout() and stderr()", () => {
    it("emit only the text appended since the last emission, each stream on its own", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-b-c-d-(r|)", {
          a: run.output(0, stream("stdout", "line 0\n")),
          b: run.output(0, stream("stdout", "line 0\nline 1\n")),
          c: run.output(1, stream("stderr", "warning\n")),
          d: run.output(2, stream("stdout", "after\n")),
          r: run.result(true),
        });
        expectObservable(events$.pipe(stdout())).toBe("a-b---d-|", { a: "line 0\n", b: "line 1\n", d: "after\n" });
        expectObservable(events$.pipe(stderr())).toBe("----c---|", { c: "warning\n" });
      });
    });

    it("rewrites the line with \\r when a progress bar redraws it", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-b-c-d-|", {
          a: run.output(0, stream("stdout", "[#   ] 25%")),
          b: run.output(0, stream("stdout", "[##  ] 50%")),
          c: run.output(0, stream("stdout", "[####] 100%")),
          d: run.output(0, stream("stdout", "[####] 100%\ndone\n")),
        });
        expectObservable(events$.pipe(stdout())).toBe("a-b-c-d-|", {
          a: "[#   ] 25%",
          b: "\r[##  ] 50%",
          c: "\r[####] 100%",
          d: "\ndone\n",
        });
      });
    });

    it("rewrites only the last line when earlier lines stay, and erases the rest of a line that got shorter", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-b-c-|", {
          a: run.output(0, stream("stdout", "epoch 1\nloss 0.75")),
          b: run.output(0, stream("stdout", "epoch 1\nloss 0.5")),
          c: run.output(0, stream("stdout", "epoch 1\nloss 0.5")),
        });
        // The repeated text (c) changes nothing, so nothing is emitted for it.
        expectObservable(events$.pipe(stdout())).toBe("a-b---|", { a: "epoch 1\nloss 0.75", b: "\r\x1b[Kloss 0.5" });
      });
    });

    it("moves the cursor up when a line above the last one is rewritten (nested progress bars)", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-b-|", {
          a: run.output(0, stream("stdout", "total 10%\nfile 50%\n")),
          b: run.output(0, stream("stdout", "total 20%\nfile 0%\n")),
        });
        expectObservable(events$.pipe(stdout())).toBe("a-b-|", {
          a: "total 10%\nfile 50%\n",
          b: "\x1b[2F\x1b[Jtotal 20%\nfile 0%\n",
        });
      });
    });

    it("emits the whole text again after the outputs were cleared", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-c-b-|", {
          a: run.output(0, stream("stdout", "step 1\n")),
          c: run.cleared(),
          b: run.output(0, stream("stdout", "step 2\n")),
        });
        expectObservable(events$.pipe(stdout())).toBe("a---b-|", { a: "step 1\n", b: "step 2\n" });
      });
    });

    it("reads stream text given as a list of lines", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-|", { a: run.output(0, { output_type: "stream", name: "stderr", text: ["one\n", "two\n"] }) });
        expectObservable(events$.pipe(streamText("stderr"))).toBe("a-|", { a: "one\ntwo\n" });
      });
    });
  });

  describe("displayData()", () => {
    it("emits display_data and execute_result outputs, not streams or errors", () => {
      const shown = display({ "text/html": "<b>hi</b>" });
      const value = executeResult({ "text/plain": "42" });
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-b-c-d-|", {
          a: run.output(0, stream("stdout", "x\n")),
          b: run.output(1, shown),
          c: run.output(2, errorOutput("ValueError", "bad")),
          d: run.output(3, value),
        });
        expectObservable(events$.pipe(displayData())).toBe("--b---d-|", { b: shown, d: value });
      });
    });
  });

  describe("mimeData()", () => {
    it("emits the data of one MIME type as rich outputs arrive and update", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("a-b-c-d-|", {
          a: run.output(0, display({ "image/png": "frame-1", "text/plain": "<Figure>" })),
          b: run.output(1, executeResult({ "text/plain": "'no image here'" })),
          c: run.output(0, display({ "image/png": "frame-2", "text/plain": "<Figure>" })),
          d: run.output(2, stream("stdout", "image/png\n")),
        });
        expectObservable(events$.pipe(mimeData("image/png"))).toBe("a---c---|", { a: "frame-1", c: "frame-2" });
        expectObservable(events$.pipe(mimeData("application/json"))).toBe("--------|");
      });
    });
  });

  describe("toResult()", () => {
    it("emits only the result", () => {
      const result = run.result(true, [stream("stdout", "ok\n")], 3);
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("q-s-o-(r|)", { q: run.queued(), s: run.started(3), o: run.output(0, stream("stdout", "ok\n")), r: result });
        expectObservable(events$.pipe(toResult())).toBe("------(r|)", { r: resultOf(result) });
      });
    });
  });

  describe("errors()", () => {
    it("emits the error of a failed result and nothing for a successful one", () => {
      const failed = run.result(false, [stream("stdout", "before\n"), errorOutput("ZeroDivisionError", "division by zero")]);
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold("o-(r|)", { o: run.output(0, stream("stdout", "before\n")), r: failed }).pipe(errors())).toBe("--(e|)", {
          e: { ename: "ZeroDivisionError", evalue: "division by zero", traceback: ["ZeroDivisionError: division by zero"] },
        });
        expectObservable(cold("(r|)", { r: run.result(true) }).pipe(errors())).toBe("|");
      });
    });

    it("emits nothing for a failed result that carries no error output", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold("(r|)", { r: run.result(false) }).pipe(errors())).toBe("|");
      });
    });
  });

  describe("throwOnError()", () => {
    it("passes a successful execution through untouched", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const values = { s: run.started(1), r: run.result(true) };
        expectObservable(cold("s-(r|)", values).pipe(throwOnError())).toBe("s-(r|)", values);
      });
    });

    it("turns an unsuccessful result into an ExecutionFailedError that carries the result", () => {
      const failed = run.result(false, [errorOutput("KeyError", "'x'")]);
      const failedResult = resultOf(failed);
      let caught: unknown;
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("s-r-|", { s: run.started(1), r: failed }).pipe(throwOnError());
        expectObservable(events$).toBe("s-#", { s: run.started(1) }, new ExecutionFailedError(failedResult));
        events$.subscribe({ error: (error: unknown) => (caught = error) });
      });
      expect(caught).toBeInstanceOf(ExecutionFailedError);
      expect((caught as ExecutionFailedError).result).toBe(failedResult);
      expect((caught as ExecutionFailedError).message).toBe("Cell cell-1 raised KeyError: 'x'");
    });

    it("names the cell when a failed result has no error output", () => {
      const error = new ExecutionFailedError(resultOf(run.result(false)));
      expect(error.message).toMatch(/^Cell cell-1 did not finish successfully \(execution cell-1-run\)/);
      expect(error.name).toBe("ExecutionFailedError");
    });
  });

  describe("latestOutputs()", () => {
    it("emits the whole output list after each output and after a clear", () => {
      const partial = stream("stdout", "a");
      const full = stream("stdout", "ab");
      const plot = display({ "image/png": "P" });
      const fresh = stream("stdout", "new");
      newScheduler().run(({ cold, expectObservable }) => {
        const events$ = cold("s-a-b-c-x-d-(r|)", {
          s: run.started(1),
          a: run.output(0, partial),
          b: run.output(1, plot),
          c: run.output(0, full),
          x: run.cleared(),
          d: run.output(0, fresh),
          r: run.result(true, [fresh]),
        });
        expectObservable(events$.pipe(latestOutputs())).toBe("--a-b-c-x-d-|", {
          a: [partial],
          b: [partial, plot],
          c: [full, plot],
          x: [],
          d: [fresh],
        });
      });
    });
  });

  describe("executionCount()", () => {
    it("emits the count once when the cell starts", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold("q-s-(r|)", { q: run.queued(), s: run.started(7), r: run.result(true, [], 7) }).pipe(executionCount())).toBe(
          "--s-|",
          { s: 7 },
        );
      });
    });

    it("takes the count from the result when the start did not carry one", () => {
      newScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold("s-(r|)", { s: run.started(null), r: run.result(true, [], 8) }).pipe(executionCount())).toBe("--(r|)", { r: 8 });
        expectObservable(cold("s-(r|)", { s: run.started(null), r: run.result(false, [], null) }).pipe(executionCount())).toBe("--|");
      });
    });
  });

  describe("every operator", () => {
    // Only throwOnError() lets the queued event through; the others emit nothing for it.
    const operators: [string, OperatorFunction<ExecutionEvent, unknown>, string][] = [
      ["outputs()", outputs(), ""],
      ["stdout()", stdout(), ""],
      ["stderr()", stderr(), ""],
      ["displayData()", displayData(), ""],
      ["mimeData()", mimeData("text/plain"), ""],
      ["toResult()", toResult(), ""],
      ["errors()", errors(), ""],
      ["throwOnError()", throwOnError(), "q"],
      ["latestOutputs()", latestOutputs(), ""],
      ["executionCount()", executionCount(), ""],
    ];
    const values = { q: run.queued() };
    const expected = (emitted: string, rest: string) => (emitted || "-") + rest;

    it.each(operators)("%s passes a transport error through and unsubscribes from the source", (_name, operator, emitted) => {
      const failure = new Error("socket closed");
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const events$ = cold("q--#", values, failure);
        expectObservable(events$.pipe(operator)).toBe(expected(emitted, "--#"), values, failure);
        expectSubscriptions(events$.subscriptions).toBe("^--!");
      });
    });

    it.each(operators)("%s completes when the execution completes", (_name, operator, emitted) => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const events$ = cold("q--|", values);
        expectObservable(events$.pipe(operator)).toBe(expected(emitted, "--|"), values);
        expectSubscriptions(events$.subscriptions).toBe("^--!");
      });
    });

    it.each(operators)("%s stops watching the execution when its subscriber unsubscribes", (_name, operator, emitted) => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const events$ = cold("q-----|", values);
        expectObservable(events$.pipe(operator), "^--!").toBe(expected(emitted, ""), values);
        expectSubscriptions(events$.subscriptions).toBe("^--!");
      });
    });
  });
});
