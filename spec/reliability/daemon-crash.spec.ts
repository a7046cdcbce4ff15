import * as fs from "node:fs";
import * as path from "node:path";
import { killEverythingMentioning, makeTempDir, spawnDaemonProcess, within } from "./processes";

jest.setTimeout(90_000);

const PRELOAD = path.join(__dirname, "fixtures", "crash-when-ready.cjs");

describe("a daemon that meets an error nothing catches", () => {
  it.each([
    ["a timer throws", "throw", "uncaughtException", "spec-crash: a timer threw", "timerThatThrows"],
    ["a promise is rejected and nobody handles it", "reject", "unhandledRejection", "spec-crash: a promise was rejected and nobody handled it", "promiseNobodyHandles"],
  ])("when %s, writes the error with its stack to daemon.log, stops and exits with code 1", async (_what, mode, kind, message, frame) => {
    const cacheDir = makeTempDir(`crash-${mode}`);
    try {
      const daemon = await spawnDaemonProcess(cacheDir, {
        RUNTIMED_POOL_SIZE: "0",
        RUNTIMED_PREWARM_KERNEL: "0",
        RUNTIMED_SPEC_CRASH: mode,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${PRELOAD}`.trim(),
      });
      const exit = await within("the daemon to exit", daemon.exited, 30_000);
      expect(exit).toEqual({ code: 1, signal: null });
      const log = fs.readFileSync(path.join(cacheDir, "daemon.log"), "utf8");
      const record = log.slice(log.indexOf(`ERROR daemon crashed (${kind}); exiting`));
      expect(record).toMatch(new RegExp(`^ERROR daemon crashed \\(${kind}\\); exiting\\nError: ${message}\\n\\s+at \\S*${frame}\\b.*crash-when-ready\\.cjs:\\d+:\\d+`));
      // It stopped as cleanly as it could: the socket and daemon.json are gone, so the next start is immediate.
      expect(log).toMatch(/INFO daemon stopped/);
      expect(fs.existsSync(daemon.socketPath)).toBe(false);
      expect(fs.existsSync(path.join(cacheDir, "daemon.json"))).toBe(false);
      expect(daemon.stderr()).toContain(message);
    } finally {
      killEverythingMentioning(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
