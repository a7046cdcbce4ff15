import * as fs from "node:fs";
import { Session } from "../../lib/session/session";
import { NO_PREWARMING } from "./environment";
import { makeTempDir, removeDaemonProcess, residentMiB, spawnDaemonProcess, type DaemonProcess } from "./processes";

jest.setTimeout(400_000);

/** Python that writes `mib` MiB to stdout as 1 KiB lines, flushed once per MiB. */
function printMiB(mib: number): string {
  return [
    "import sys",
    "line = 'x' * 1023 + '\\n'",
    "chunk = line * 1024",
    `for _ in range(${mib}):`,
    "    sys.stdout.write(chunk)",
    "    sys.stdout.flush()",
  ].join("\n");
}

describe("a daemon process and outputs of any size", () => {
  let cacheDir: string;
  let daemon: DaemonProcess;
  const sessions: Session[] = [];
  const session = (notebookId: string) => {
    const opened = new Session({ notebookId, socketPath: daemon.socketPath, cacheDir, autoStart: false });
    sessions.push(opened);
    return opened;
  };

  beforeAll(async () => {
    cacheDir = makeTempDir("big-outputs");
    daemon = await spawnDaemonProcess(cacheDir, NO_PREWARMING);
  });

  afterAll(async () => {
    await Promise.all(sessions.map((opened) => opened.close({ shutdownKernel: true }).catch(() => undefined)));
    await removeDaemonProcess(daemon, cacheDir);
  });

  it("a 200 MiB stream in one cell reaches the result whole, the daemon stays up and small, and another room keeps executing", async () => {
    const big = session("big-stream");
    const other = session("other-room");
    await Promise.all([big.startKernel(), other.startKernel()]);
    await big.run("1");
    const baseline = residentMiB(daemon.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, residentMiB(daemon.pid))), 50);
    let otherRuns = 0;
    let streaming = true;
    const otherLoop = (async () => {
      while (streaming) {
        const result = await other.run("1 + 1", { timeoutSecs: 120 });
        expect(result.displayData[0]?.data["text/plain"]).toBe("2");
        otherRuns++;
      }
    })();
    try {
      const result = await big.run(printMiB(200), { timeoutSecs: 300 });
      expect(result.success).toBe(true);
      expect(result.stdout.length).toBe(200 * 1024 * 1024);
      expect(result.stdout.endsWith("x".repeat(1023) + "\n")).toBe(true);
      expect(result.outputs).toHaveLength(1);
    } finally {
      streaming = false;
      clearInterval(sampler);
      await otherLoop;
    }
    console.log(`200 MiB stream: daemon RSS ${baseline.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB; other room ran ${otherRuns} cells meanwhile`);
    expect(otherRuns).toBeGreaterThan(0);
    expect(fs.existsSync(`/proc/${daemon.pid}`)).toBe(true);
    // The bound: memory grows by at most about twice the output it handles.
    expect(peak - baseline).toBeLessThan(2 * 200 + 50);
    // The document stores the stream once, as a blob; a session that joins now reads it whole.
    const late = session("big-stream");
    await late.connect();
    const stored = late.getCells().at(-1)!.outputs[0] as { text: string };
    expect(stored.text.length).toBe(200 * 1024 * 1024);
  });

});

describe("the output size cap", () => {
  it("an output over RUNTIMED_MAX_OUTPUT_BYTES ends with a visible notice, and the cell and daemon carry on", async () => {
    const cacheDir = makeTempDir("output-cap");
    const daemon = await spawnDaemonProcess(cacheDir, { RUNTIMED_POOL_SIZE: "0", RUNTIMED_PREWARM_KERNEL: "0", RUNTIMED_MAX_OUTPUT_BYTES: String(8 * 1024 * 1024) });
    const capped = new Session({ notebookId: "capped", socketPath: daemon.socketPath, cacheDir, autoStart: false });
    try {
      const result = await capped.run(`${printMiB(20)}\nimport sys\nprint('on stderr', file=sys.stderr)`, { timeoutSecs: 300 });
      expect(result.success).toBe(true);
      expect(result.stdout.length).toBeLessThanOrEqual(8 * 1024 * 1024 + 200);
      expect(result.stdout).toMatch(/\[runtimed: this output passed 8\.0 MiB; the rest was dropped \(raise RUNTIMED_MAX_OUTPUT_BYTES to keep more\)\]\n$/);
      // Other outputs of the same cell are not affected.
      expect(result.stderr).toBe("on stderr\n");
      const next = await capped.run("print('still here')");
      expect(next.stdout).toBe("still here\n");
      // The document keeps the capped output with its notice.
      const stored = capped.getCells()[0]!.outputs[0] as { text: string };
      expect(stored.text).toContain("[runtimed: this output passed 8.0 MiB");
    } finally {
      await capped.close({ shutdownKernel: true }).catch(() => undefined);
      await removeDaemonProcess(daemon, cacheDir);
    }
  });
});
