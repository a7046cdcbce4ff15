import { executeRequestContent } from "../../lib/kernel/kernel-handle";

describe("the content of an execute_request", () => {
  it("fills in Jupyter's defaults: stored in history, no stdin, stop on error", () => {
    expect(executeRequestContent("1 + 1")).toEqual({
      code: "1 + 1",
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
  });

  it("a silent execution is not stored in history unless asked", () => {
    expect(executeRequestContent("x", { silent: true })).toMatchObject({ silent: true, store_history: false });
    expect(executeRequestContent("x", { silent: true, storeHistory: true })).toMatchObject({ silent: true, store_history: true });
  });

  it("keeps every option it is given, snake_cased", () => {
    expect(executeRequestContent("y", { allowStdin: true, stopOnError: false, userExpressions: { a: "a" } })).toMatchObject({
      allow_stdin: true,
      stop_on_error: false,
      user_expressions: { a: "a" },
    });
  });
});
