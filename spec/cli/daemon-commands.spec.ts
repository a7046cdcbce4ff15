import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { daemonFiles, type DaemonInfo } from "../../lib/transport/paths";
import { freePort } from "../free-port";
import { removeDir, startTestDaemon } from "../integration/harness";
import { killDaemonOf, processAlive, runCli, startCli, stopCli, waitUntil } from "./cli-process";

jest.setTimeout(120_000);

function tempCacheDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-cli-"));
}

function readInfo(cacheDir: string): DaemonInfo {
  return JSON.parse(fs.readFileSync(daemonFiles(cacheDir).info, "utf8")) as DaemonInfo;
}

describe("runtimed help and usage errors", () => {
  it("--help lists every command and exits 0", async () => {
    const result = await runCli(["--help"]);
    expect(result).toMatchObject({ exitCode: 0 });
    for (const command of ["daemon start", "daemon stop", "daemon status", "daemon logs", "daemon gc", "rooms", "pool", "run <notebook.ipynb>", "--socket PATH"]) {
      expect(result.stdout).toContain(command);
    }
  });

  it("each command group has its own help", async () => {
    const [daemon, run, rooms, pool] = await Promise.all([
      runCli(["daemon", "--help"]),
      runCli(["run", "--help"]),
      runCli(["rooms", "-h"]),
      runCli(["pool", "--help"]),
    ]);
    expect(daemon).toMatchObject({ exitCode: 0 });
    expect(daemon.stdout).toMatch(/Usage: runtimed daemon <command>[\s\S]*--foreground[\s\S]*logs \[-f\] \[-n N\]/);
    expect(run).toMatchObject({ exitCode: 0 });
    expect(run.stdout).toMatch(/Usage: runtimed run <notebook.ipynb>[\s\S]*--inplace[\s\S]*--continue-on-error/);
    expect(rooms.stdout).toContain("Usage: runtimed rooms");
    expect(pool.stdout).toContain("--flush");
  });

  it("an unknown command prints the help and exits 2", async () => {
    const result = await runCli(["frobnicate"]);
    expect(result).toMatchObject({ exitCode: 2 });
    expect(result.stderr).toContain("unknown command 'frobnicate'");
    expect(result.stderr).toContain("Usage: runtimed <command>");
    expect(result.stdout).toBe("");
  });

  it("no command prints the help on stderr and exits 2", async () => {
    const result = await runCli([]);
    expect(result).toMatchObject({ exitCode: 2 });
    expect(result.stderr).toContain("Usage: runtimed <command>");
  });

  it("an unknown option or subcommand exits 2 and points at the right help", async () => {
    const [option, subcommand, value] = await Promise.all([
      runCli(["daemon", "status", "--bogus"]),
      runCli(["daemon", "restart-everything"]),
      runCli(["daemon", "logs", "-n", "many"]),
    ]);
    expect(option).toMatchObject({ exitCode: 2 });
    expect(option.stderr).toContain("Unknown option '--bogus'");
    expect(option.stderr).toContain("See `runtimed daemon --help`");
    expect(subcommand).toMatchObject({ exitCode: 2 });
    expect(subcommand.stderr).toContain("Unknown daemon command 'restart-everything'; use start, stop, status, logs or gc");
    expect(value).toMatchObject({ exitCode: 2 });
    expect(value.stderr).toContain("-n takes a positive number, not 'many'");
  });

  it("--version prints the package version", async () => {
    const result = await runCli(["--version"]);
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.stdout).toMatch(/^runtimed \d+\.\d+\.\d+\n$/);
  });
});

describe("runtimed daemon, started detached by the CLI", () => {
  it("start, start again, status, logs, stop: no daemon is left", async () => {
    const cacheDir = tempCacheDir();
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const at = ["--cache-dir", cacheDir];
    let daemonPid: number | undefined;
    try {
      const before = await runCli(["daemon", "status", ...at]);
      expect(before).toMatchObject({ exitCode: 1 });
      expect(before.stderr).toContain(`No runtimed daemon is running at ${socketPath}; start one with \`runtimed daemon start\``);

      const start = await runCli(["daemon", "start", ...at]);
      expect(start).toMatchObject({ exitCode: 0 });
      daemonPid = readInfo(cacheDir).pid;
      expect(start.stdout).toContain(`runtimed daemon started (pid ${daemonPid})`);
      expect(start.stdout).toContain(`socket  ${socketPath}`);
      const info = readInfo(cacheDir);
      expect(start.stdout).toContain(`url     http://127.0.0.1:${info.port}/`);
      expect(start.stderr).not.toContain("warning");
      expect(processAlive(daemonPid)).toBe(true);

      const again = await runCli(["daemon", "start", ...at]);
      expect(again).toMatchObject({ exitCode: 0 });
      expect(again.stdout).toContain(`already running (pid ${daemonPid})`);

      const status = await runCli(["daemon", "status", ...at]);
      expect(status).toMatchObject({ exitCode: 0 });
      expect(status.stdout).toMatch(/runtimed daemon \d+\.\d+\.\d+ \(protocol \d+\) is running/);
      expect(status.stdout).toMatch(new RegExp(`pid\\s+${daemonPid}\\n`));
      expect(status.stdout).toContain(`cache dir ${cacheDir}`);
      expect(status.stdout).toContain("rooms     0 (0 with a kernel)");
      expect(status.stdout).toContain(`url       ${info.url}\n`);
      expect(status.stdout).toContain(`token     ${info.token}\n`);
      expect(status.stdout).toContain(`page      ${info.url}?token=${info.token}\n`);

      const json = await runCli(["daemon", "status", "--json", ...at]);
      const report = JSON.parse(json.stdout) as { running: boolean; pid: number; socketPath: string; rooms: unknown[]; logFile: string };
      expect(report).toMatchObject({ running: true, pid: daemonPid, socketPath, rooms: [], logFile: path.join(cacheDir, "daemon.log") });
      expect(report).toMatchObject({ host: "127.0.0.1", url: info.url, token: info.token });
      expect(info.token).toMatch(/^[0-9a-f]{64}$/);

      const logs = await runCli(["daemon", "logs", "-n", "5", ...at]);
      expect(logs).toMatchObject({ exitCode: 0 });
      expect(logs.stdout).toContain("INFO daemon started");
      expect(logs.stdout).toContain(`"pid":${daemonPid}`);

      const stop = await runCli(["daemon", "stop", ...at]);
      expect(stop).toMatchObject({ exitCode: 0 });
      expect(stop.stdout).toContain(`runtimed daemon stopped (pid ${daemonPid})`);
      expect(fs.existsSync(socketPath)).toBe(false);
      const pid = daemonPid;
      await waitUntil(() => !processAlive(pid), 10_000);

      const stopAgain = await runCli(["daemon", "stop", ...at]);
      expect(stopAgain).toMatchObject({ exitCode: 0 });
      expect(stopAgain.stdout).toContain("No runtimed daemon is running");
    } finally {
      await killDaemonOf(cacheDir);
      if (daemonPid !== undefined && processAlive(daemonPid)) process.kill(daemonPid, "SIGKILL");
      removeDir(cacheDir);
    }
  });

  it("start takes --port, passes RUNTIMED_HOST through, and warns about a non-loopback host on stderr and in the log", async () => {
    const cacheDir = tempCacheDir();
    const at = ["--cache-dir", cacheDir];
    const env = { RUNTIMED_HOST: "0.0.0.0", RUNTIMED_POOL_SIZE: "0", RUNTIMED_PREWARM_KERNEL: "0" };
    try {
      const port = await freePort();
      const start = await runCli(["daemon", "start", "--port", String(port), ...at], { env });
      expect(start).toMatchObject({ exitCode: 0 });
      expect(start.stdout).toContain(`url     http://127.0.0.1:${port}/`);
      expect(start.stderr).toContain("warning: the daemon listens on 0.0.0.0, reachable from other machines");
      expect(readInfo(cacheDir)).toMatchObject({ host: "0.0.0.0", port, url: `http://127.0.0.1:${port}/` });
      expect(fs.readFileSync(path.join(cacheDir, "daemon.log"), "utf8")).toMatch(/WARN the network face listens on 0\.0\.0\.0, beyond this machine/);

      const again = await runCli(["daemon", "start", "--port", "1", ...at], { env });
      expect(again).toMatchObject({ exitCode: 0 });
      expect(again.stderr).toContain(`this one serves http://127.0.0.1:${port}/ (stop it first to change that)`);
    } finally {
      await runCli(["daemon", "stop", ...at]);
      await killDaemonOf(cacheDir);
      removeDir(cacheDir);
    }
  });

  it("start refuses a malformed --port, --host or --allow-origin as a usage error, before starting anything", async () => {
    const cacheDir = tempCacheDir();
    try {
      const [port, host, origin] = await Promise.all([
        runCli(["daemon", "start", "--port", "eighty", "--cache-dir", cacheDir]),
        runCli(["daemon", "start", "--host", "http://x", "--cache-dir", cacheDir]),
        runCli(["daemon", "start", "--allow-origin", "https://ok.example,app.example.com/page", "--cache-dir", cacheDir]),
      ]);
      expect(port).toMatchObject({ exitCode: 2 });
      expect(port.stderr).toContain("--port must be a port number from 0 to 65535 (0: any free port), not 'eighty'");
      expect(host).toMatchObject({ exitCode: 2 });
      expect(host.stderr).toContain("--host must be a host name or an IP address");
      expect(origin).toMatchObject({ exitCode: 2 });
      expect(origin.stderr).toContain("--allow-origin takes web origins");
      expect(fs.existsSync(daemonFiles(cacheDir).info)).toBe(false);
    } finally {
      removeDir(cacheDir);
    }
  });

  it("logs without a log file says where it looked and exits 1", async () => {
    const cacheDir = tempCacheDir();
    try {
      const result = await runCli(["daemon", "logs", "--cache-dir", cacheDir]);
      expect(result).toMatchObject({ exitCode: 1 });
      expect(result.stderr).toContain(`No daemon log at ${path.join(cacheDir, "daemon.log")}`);
    } finally {
      removeDir(cacheDir);
    }
  });
});

describe("runtimed daemon start --foreground", () => {
  it("serves in the CLI's own process, mirrors the log to stderr and stops on SIGINT", async () => {
    const cacheDir = tempCacheDir();
    const socketPath = path.join(cacheDir, "runtimed.sock");
    const foreground = startCli(["daemon", "start", "--foreground", "--socket", socketPath, "--cache-dir", cacheDir]);
    try {
      await foreground.waitForOutput(/INFO daemon started/);
      expect(foreground.stderr()).toContain(`(pid ${foreground.child.pid}) serving ${socketPath}`);
      expect(foreground.stderr()).toContain(`  url ${readInfo(cacheDir).url}\n`);

      const status = await runCli(["daemon", "status", "--json", "--socket", socketPath]);
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: foreground.child.pid });

      const second = await runCli(["daemon", "start", "--foreground", "--socket", socketPath, "--cache-dir", cacheDir]);
      expect(second).toMatchObject({ exitCode: 1 });
      expect(second.stderr).toContain(`already serves ${socketPath}`);

      foreground.child.kill("SIGINT");
      const result = await foreground.exited;
      expect(result).toMatchObject({ exitCode: 0 });
      expect(result.stderr).toContain("SIGINT: stopping the daemon");
      expect(result.stderr).toContain("INFO daemon stopped");
      expect(fs.existsSync(socketPath)).toBe(false);
    } finally {
      await stopCli(foreground);
      removeDir(cacheDir);
    }
  });
});

describe("runtimed against a running daemon", () => {
  it("rooms lists a joined session with its kernel, as a table and as JSON", async () => {
    const room = await startTestDaemon();
    try {
      const session = room.session({ notebookId: "cli-rooms-demo" });
      await session.connect();
      await session.startKernel();
      const table = await runCli(["rooms", "--socket", room.socketPath]);
      expect(table).toMatchObject({ exitCode: 0 });
      const [header, line] = table.stdout.trim().split("\n");
      expect(header).toMatch(/^NOTEBOOK\s+CLIENTS\s+KERNEL\s+ENV$/);
      expect(line).toMatch(new RegExp(`^cli-rooms-demo\\s+1\\s+idle\\s+${escapeRegExp(session.envSource!)}$`));

      const json = await runCli(["rooms", "--json", "--socket", room.socketPath]);
      expect(JSON.parse(json.stdout)).toEqual([{ notebookId: "cli-rooms-demo", clients: 1, kernelStatus: "idle", envSource: session.envSource }]);

      const status = await runCli(["daemon", "status", "--socket", room.socketPath]);
      expect(status.stdout).toContain("rooms     1 (1 with a kernel)");
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("rooms with no rooms says so; rooms with no daemon says how to start one", async () => {
    const room = await startTestDaemon();
    try {
      const empty = await runCli(["rooms", "--socket", room.socketPath]);
      expect(empty).toMatchObject({ exitCode: 0 });
      expect(empty.stdout).toContain("No open rooms.");
    } finally {
      await room.dispose();
    }
    const absent = await runCli(["rooms", "--socket", room.socketPath]);
    expect(absent).toMatchObject({ exitCode: 1 });
    expect(absent.stderr).toContain("start one with `npx runtimed daemon start`");
    removeDir(room.cacheDir);
  });

  it("pool shows the pool and --flush flushes it", async () => {
    const room = await startTestDaemon();
    try {
      // Compare once the pool has settled: while it builds, its rows change from one moment to the next.
      for (let i = 0; i < 600 && room.daemon.status().pool.some((row) => row.building > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const pool = await runCli(["pool", "--json", "--socket", room.socketPath]);
      expect(pool).toMatchObject({ exitCode: 0 });
      expect(JSON.parse(pool.stdout)).toEqual(room.daemon.status().pool);
      const flushed = await runCli(["pool", "--flush", "--socket", room.socketPath]);
      expect(flushed).toMatchObject({ exitCode: 0 });
      expect(flushed.stderr).toContain("Pool flushed");
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("logs -f prints new log lines as the daemon writes them, until SIGINT", async () => {
    const room = await startTestDaemon();
    const follow = startCli(["daemon", "logs", "-f", "-n", "3", "--socket", room.socketPath]);
    try {
      await follow.waitForOutput(/INFO daemon started/);
      await room.dispose();
      await follow.waitForOutput(/INFO daemon stopped/);
      follow.child.kill("SIGINT");
      const result = await follow.exited;
      expect(result).toMatchObject({ exitCode: 0 });
    } finally {
      await stopCli(follow);
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });

  it("daemon gc removes stored outputs no notebook refers to and says what it did; --grace and --json", async () => {
    const room = await startTestDaemon();
    const plant = (text: string, ageMs: number) => {
      const hash = createHash("sha256").update(text).digest("hex");
      const file = path.join(daemonFiles(room.cacheDir).blobs, hash.slice(0, 2), hash);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      const when = new Date(Date.now() - ageMs);
      fs.utimesSync(file, when, when);
      return file;
    };
    try {
      const old = plant("x".repeat(3000), 2 * 3600_000);
      const recent = plant("y".repeat(100), 60_000);
      const gc = await runCli(["daemon", "gc", "--socket", room.socketPath]);
      expect(gc).toMatchObject({ exitCode: 0 });
      expect(gc.stdout).toBe("Removed 1 blob (2.9 KiB freed); kept 1\n");
      expect(fs.existsSync(old)).toBe(false);
      expect(fs.existsSync(recent)).toBe(true);
      const json = await runCli(["daemon", "gc", "--grace", "0", "--json", "--socket", room.socketPath]);
      expect(json).toMatchObject({ exitCode: 0 });
      expect(JSON.parse(json.stdout)).toEqual({ removed: 1, freedBytes: 100, kept: 0, skipped: null });
      expect(fs.existsSync(recent)).toBe(false);
      const badGrace = await runCli(["daemon", "gc", "--grace", "soon", "--socket", room.socketPath]);
      expect(badGrace).toMatchObject({ exitCode: 2 });
      expect(badGrace.stderr).toContain("--grace takes a number of seconds (0 or more), not 'soon'");
    } finally {
      await room.dispose();
    }
    const absent = await runCli(["daemon", "gc", "--socket", room.socketPath]);
    expect(absent).toMatchObject({ exitCode: 1 });
    expect(absent.stderr).toContain("No runtimed daemon is running");
    removeDir(room.cacheDir);
  });

  it("daemon stop stops a daemon it did not start", async () => {
    const room = await startTestDaemon();
    try {
      const stop = await runCli(["daemon", "stop", "--socket", room.socketPath]);
      expect(stop).toMatchObject({ exitCode: 0 });
      expect(stop.stdout).toContain(`runtimed daemon stopped (pid ${process.pid})`);
      await room.daemon.stopped;
      expect(fs.existsSync(room.socketPath)).toBe(false);
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
