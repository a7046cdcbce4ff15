import { failureExcerpt, runCommand } from "../../lib/env/run";
import { RuntimedError } from "../../lib/protocol/errors";
import { processesMentioning } from "./fixtures";

describe("runCommand", () => {
  it("streams lines and resolves with the exit code and the tail", async () => {
    const lines: string[] = [];
    const result = await runCommand("sh", ["-c", "echo one; echo two >&2; exit 3"], { onLine: (l) => lines.push(l) });
    expect(result.code).toBe(3);
    expect(lines.sort()).toEqual(["one", "two"]);
    expect(result.tail.sort()).toEqual(["one", "two"]);
  });

  it("kills the whole process group on abort and rejects with CANCELLED", async () => {
    // Unique sleep lengths let us find both the background child and the exec'd grandchild.
    const background = `30.${process.pid}`;
    const foreground = `31.${process.pid}`;
    const controller = new AbortController();
    const running = runCommand("sh", ["-c", `sleep ${background} & exec sh -c 'sleep ${foreground}; true'`], {
      signal: controller.signal,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(processesMentioning(`sleep ${background}`).length).toBe(1);
    expect(processesMentioning(`sleep ${foreground}`).length).toBeGreaterThan(0);
    controller.abort();
    await expect(running).rejects.toMatchObject({ code: "CANCELLED" });
    expect(processesMentioning(`sleep ${background}`)).toEqual([]);
    expect(processesMentioning(`sleep ${foreground}`)).toEqual([]);
  });

  it("stops a command that outlives its timeout with ENV_FAILED", async () => {
    const error = await runCommand("sh", ["-c", "echo started; sleep 30"], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimedError);
    expect(error).toMatchObject({ code: "ENV_FAILED", message: expect.stringContaining("did not finish within") });
    expect((error as Error).message).toContain("started");
  });

  it("rejects with ENV_FAILED when the command does not exist", async () => {
    await expect(runCommand("/nonexistent/tool", [])).rejects.toMatchObject({ code: "ENV_FAILED" });
  });
});

describe("failureExcerpt", () => {
  it("quotes the ERROR lines when there are some, else the last lines", () => {
    expect(failureExcerpt(["Looking in indexes", "ERROR: No matching distribution", "done"])).toBe("ERROR: No matching distribution");
    expect(failureExcerpt(["a", "b", "c"], 2)).toBe("b\nc");
  });
});
