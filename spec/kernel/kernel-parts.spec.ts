import { FrameWriter } from "../../lib/kernel/frame-writer";
import { kernelEnvironment, substituteArgument } from "../../lib/kernel/kernel-process";
import { KernelStartup } from "../../lib/kernel/kernel-startup";
import { pythonKernelSpec } from "../../lib/kernel/kernelspec";
import { OutputTail } from "../../lib/kernel/output-tail";
import { PendingReplies } from "../../lib/kernel/pending-replies";
import { createMessage, type JupyterMessage } from "../../lib/kernel/wire";
import { RuntimedError } from "../../lib/protocol/errors";

describe("kernel launch helpers", () => {
  test("argv placeholders are substituted", () => {
    expect(substituteArgument("--conn={connection_file}", "/tmp/k.json", "/r")).toBe("--conn=/tmp/k.json");
    expect(substituteArgument("{resource_dir}/logo.png", "/tmp/k.json", "/r")).toBe("/r/logo.png");
  });

  test("the kernel environment layers the spec's env over the base, expanding ${VAR}", () => {
    const spec = { ...pythonKernelSpec("python3"), env: { PYTHONPATH: "${HOME}/lib", EXTRA: "1" } };
    const env = kernelEnvironment(spec, { HOME: "/home/ada", EXTRA: "0" });
    expect(env).toMatchObject({
      HOME: "/home/ada",
      PYTHONPATH: "/home/ada/lib",
      EXTRA: "1",
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
      JPY_PARENT_PID: String(process.pid),
    });
  });
});

describe("OutputTail", () => {
  test("keeps only the last bytes and returns the last non-empty lines", () => {
    const tail = new OutputTail(16);
    tail.push(Buffer.from("first line\n"));
    tail.push(Buffer.from("second\n\nthird\n"));
    expect(tail.lastLines(2)).toEqual(["second", "third"]);
    tail.push(Buffer.from("x".repeat(40)));
    expect(tail.lastLines(5)).toEqual(["x".repeat(16)]);
  });
});

describe("FrameWriter", () => {
  test("sends in order, one send at a time, and reports failures without throwing", async () => {
    const sent: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const errors: unknown[] = [];
    const socket = {
      closed: false,
      async send(frames: Buffer[]): Promise<void> {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        if (frames[0].toString() === "bad") throw new Error("EBUSY");
        sent.push(frames[0].toString());
      },
    };
    const writer = new FrameWriter(socket, (error) => errors.push(error));
    for (const word of ["a", "b", "bad", "c"]) writer.write([Buffer.from(word)]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(sent).toEqual(["a", "b", "c"]);
    expect(maxInFlight).toBe(1);
    expect(errors).toHaveLength(1);
  });
});

describe("PendingReplies", () => {
  const reply = (parent: JupyterMessage): JupyterMessage => createMessage("kernel_info_reply", {}, "s", parent);

  test("a reply settles the request it answers", async () => {
    const pending = new PendingReplies();
    const request = createMessage("kernel_info_request", {}, "s");
    const promise = pending.expect(request.header.msg_id, "kernel_info_request", undefined, () => undefined);
    expect(pending.settle("someone-else", reply(request))).toBe(false);
    expect(pending.settle(request.header.msg_id, reply(request))).toBe(true);
    expect((await promise).parent_header.msg_id).toBe(request.header.msg_id);
    expect(pending.settle(request.header.msg_id, reply(request))).toBe(false);
  });

  test("requests time out, and rejectAll rejects the rest", async () => {
    const pending = new PendingReplies();
    const slow = pending.expect("a", "complete_request", 10, () => undefined);
    await expect(slow).rejects.toMatchObject({ code: "TIMEOUT" });
    const waiting = pending.expect("b", "execute_request", undefined, () => undefined);
    pending.rejectAll(new RuntimedError("KERNEL_DIED", "gone"));
    await expect(waiting).rejects.toMatchObject({ code: "KERNEL_DIED" });
  });

  test("an unobserved rejection is not an unhandled rejection", async () => {
    const pending = new PendingReplies();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      pending.expect("c", "execute_request", undefined, () => undefined);
      pending.rejectAll(new RuntimedError("KERNEL_DIED", "gone"));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("KernelStartup", () => {
  test("is ready only after a kernel_info_reply AND an iopub message, and hides its own iopub", async () => {
    const sent: JupyterMessage[] = [];
    const startup = new KernelStartup((message) => sent.push(message), "s");
    let ready = false;
    const running = startup.run(5_000).then(() => (ready = true));
    expect(sent).toHaveLength(1);
    expect(startup.takeReply(sent[0].header.msg_id, createMessage("kernel_info_reply", { status: "ok" }, "k", sent[0]))).toBe(true);
    await Promise.resolve();
    expect(ready).toBe(false);
    // No iopub yet: it asks again at once so a status message is published after SUB joined.
    expect(sent).toHaveLength(2);
    const ownStatus = createMessage("status", { execution_state: "busy" }, "k", sent[1]);
    expect(startup.isOwnIopub(ownStatus)).toBe(true);
    await running;
    expect(startup.kernelInfo).toEqual({ status: "ok" });
    expect(startup.isOwnIopub(createMessage("status", {}, "k", createMessage("execute_request", {}, "s")))).toBe(false);
  });

  test("fails with the error it is given, or TIMEOUT", async () => {
    const failing = new KernelStartup(() => undefined, "s");
    const run = failing.run(5_000);
    failing.fail(new RuntimedError("KERNEL_FAILED", "exited"));
    await expect(run).rejects.toMatchObject({ code: "KERNEL_FAILED" });
    await expect(new KernelStartup(() => undefined, "s").run(20)).rejects.toMatchObject({ code: "TIMEOUT" });
  });
});
