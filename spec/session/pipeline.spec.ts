import type { Observable } from "rxjs";
import { TestScheduler } from "rxjs/testing";
import { stdout } from "../../lib/session/operators";
import { executeAll, summarize } from "../../lib/session/pipeline";
import type { ExecutionEvent } from "../../lib/session/types";
import { errorOutput, eventsOf, resultOf, stream } from "./execution-events";

const load = eventsOf("load");
const transform = eventsOf("transform");
const plot = eventsOf("plot");
const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

// Each cell's execution as a cold observable: started, maybe an output, result. `l`, `t`, `p`
// mark the started events, `L`, `T`, `P` the results, `F` the failed result of `transform`.
// The executions take four frames between events so that grouped marbles line up.
const values = {
  l: load.started(1),
  L: load.result(true, [], 1),
  t: transform.started(2),
  o: transform.output(0, stream("stdout", "rows: 3\n")),
  T: transform.result(true, [stream("stdout", "rows: 3\n")], 2),
  F: transform.result(false, [errorOutput("KeyError", "'price'")], 2),
  p: plot.started(3),
  P: plot.result(true, [], 3),
};

/** An `execute` over fixed cold executions that records which cells it was asked to run. */
function executorOver(executions: Record<string, Observable<ExecutionEvent>>) {
  const executed: string[] = [];
  const execute = (cellId: string): Observable<ExecutionEvent> => {
    executed.push(cellId);
    const execution = executions[cellId];
    if (!execution) throw new Error(`no execution for ${cellId}`);
    return execution;
  };
  return { execute, executed };
}

describe("executeAll()", () => {
  it("runs the cells one after another, each starting once the previous one has its result", () => {
    let executed: string[] = [];
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const executions = { load: cold("l---(L|)", values), transform: cold("t---o---(T|)", values), plot: cold("p---(P|)", values) };
      const runner = executorOver(executions);
      executed = runner.executed;
      expectObservable(executeAll(runner.execute, ["load", "transform", "plot"])).toBe("l---(Lt)o---(Tp)(P|)", values);
      expectSubscriptions(executions.load.subscriptions).toBe("^---!");
      expectSubscriptions(executions.transform.subscriptions).toBe("----^-------!");
      expectSubscriptions(executions.plot.subscriptions).toBe("------------^---!");
    });
    expect(executed).toEqual(["load", "transform", "plot"]);
  });

  it("stops after the first failing cell by default: its result is the last event and later cells never run", () => {
    let executed: string[] = [];
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const executions = { load: cold("l---(L|)", values), transform: cold("t---o---(F|)", values), plot: cold("p---(P|)", values) };
      const runner = executorOver(executions);
      executed = runner.executed;
      expectObservable(executeAll(runner.execute, ["load", "transform", "plot"])).toBe("l---(Lt)o---(F|)", values);
      expectSubscriptions(executions.transform.subscriptions).toBe("----^-------!");
      expectSubscriptions(executions.plot.subscriptions).toBe([]);
    });
    expect(executed).toEqual(["load", "transform"]);
  });

  it("runs every cell despite a failure when stopOnError is false", () => {
    let executed: string[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const runner = executorOver({ load: cold("l---(L|)", values), transform: cold("t---o---(F|)", values), plot: cold("p---(P|)", values) });
      executed = runner.executed;
      expectObservable(executeAll(runner.execute, ["load", "transform", "plot"], { stopOnError: false })).toBe("l---(Lt)o---(Fp)(P|)", values);
    });
    expect(executed).toEqual(["load", "transform", "plot"]);
  });

  it("runs nothing before it is subscribed, and again for each subscription", () => {
    let executed: string[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const runner = executorOver({ load: cold("l---(L|)", values) });
      executed = runner.executed;
      const pipeline$ = executeAll(runner.execute, ["load"]);
      expect(runner.executed).toEqual([]);
      expectObservable(pipeline$).toBe("l---(L|)", values);
      expectObservable(pipeline$, "---^").toBe("---l---(L|)", values);
    });
    expect(executed).toEqual(["load", "load"]);
  });

  it("completes at once for no cells", () => {
    newScheduler().run(({ expectObservable }) => {
      expectObservable(executeAll(() => { throw new Error("nothing should run"); }, [])).toBe("|");
    });
  });

  it("passes a cell's observable error on and runs no later cell", () => {
    const failure = new Error("the daemon went away");
    let executed: string[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      const runner = executorOver({ load: cold("l---(L|)", values), transform: cold("t---#", values, failure), plot: cold("p---(P|)", values) });
      executed = runner.executed;
      expectObservable(executeAll(runner.execute, ["load", "transform", "plot"], { stopOnError: false })).toBe("l---(Lt)#", values, failure);
    });
    expect(executed).toEqual(["load", "transform"]);
  });

  it("unsubscribing stops the running cell and never starts the rest", () => {
    let executed: string[] = [];
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const executions = { load: cold("l---(L|)", values), transform: cold("t---o---(T|)", values), plot: cold("p---(P|)", values) };
      const runner = executorOver(executions);
      executed = runner.executed;
      expectObservable(executeAll(runner.execute, ["load", "transform", "plot"]), "^-----!").toBe("l---(Lt)", values);
      expectSubscriptions(executions.transform.subscriptions).toBe("----^-!");
      expectSubscriptions(executions.plot.subscriptions).toBe([]);
    });
    expect(executed).toEqual(["load", "transform"]);
  });

  it("composes with the execution operators: the stdout of a whole pipeline", () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const runner = executorOver({ load: cold("l---(L|)", values), transform: cold("t---o---(T|)", values) });
      expectObservable(executeAll(runner.execute, ["load", "transform"]).pipe(stdout())).toBe("--------o---|", { o: "rows: 3\n" });
    });
  });
});

describe("summarize()", () => {
  it("emits every result of a pipeline, in order, once it completes", () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const runner = executorOver({ load: cold("l---(L|)", values), transform: cold("t---o---(F|)", values), plot: cold("p---(P|)", values) });
      expectObservable(executeAll(runner.execute, ["load", "transform", "plot"]).pipe(summarize())).toBe("------------(s|)", {
        s: [resultOf(values.L), resultOf(values.F)],
      });
    });
  });

  it("emits an empty list for a pipeline of no cells and passes errors on", () => {
    const failure = new Error("closed");
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ExecutionEvent>("|").pipe(summarize())).toBe("(s|)", { s: [] });
      expectObservable(cold<ExecutionEvent>("l-#", values, failure).pipe(summarize())).toBe("--#", undefined, failure);
    });
  });
});
