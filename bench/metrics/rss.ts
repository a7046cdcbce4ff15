/**
 * Daemon memory: a daemon in its own process (as users run it), RSS from /proc when idle and
 * with 100 idle rooms (one connected session and one cell each, no kernels).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { Session } from "../../lib";
import { DaemonClient } from "../../lib/transport/daemon-client";
import type { BenchContext, Metric, Row } from "../context";
import { registerCleanup } from "../cleanup";
import { sleep } from "../stats";

const ROOMS = 100;
const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** VmRSS of a process, in MB. */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) / 1024;
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "ignore", "inherit"] });
  registerCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}

async function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exited;
  clearTimeout(timer);
}

/** Median of a few RSS readings a short while apart (RSS moves with GC). */
async function settledRss(pid: number): Promise<number> {
  await sleep(1500);
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssMb(pid));
    await sleep(200);
  }
  return readings.sort((a, b) => a - b)[2]!;
}

/** Compiles lib/ with tsc into `outDir` (what `npm run build` ships); false when tsc emitted nothing. */
function compileLib(outDir: string): boolean {
  try {
    execFileSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", outDir, "--declaration", "false", "--sourceMap", "false"], {
      cwd: REPO_ROOT,
      stdio: "ignore",
    });
  } catch {
    // tsc exits non-zero on type errors elsewhere in lib/ but still emits; judged by the file below
  }
  return fs.existsSync(path.join(outDir, "daemon", "main.js"));
}

/** Starts a daemon process with `args`, measures it idle and with ROOMS idle rooms, stops it. */
async function measureDaemon(workDir: string, args: (socketPath: string, cacheDir: string) => string[], env?: NodeJS.ProcessEnv): Promise<{ idleMb: number; roomsMb: number }> {
  const cacheDir = fs.mkdtempSync(path.join(workDir, "rss-"));
  const socketPath = path.join(cacheDir, "runtimed.sock");
  const daemon = spawnNode(args(socketPath, cacheDir), env);
  const client = new DaemonClient({ socketPath });
  const sessions: Session[] = [];
  try {
    const deadline = Date.now() + 30_000;
    while (!(await client.isRunning())) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error("the daemon process did not come up within 30 s");
      await sleep(100);
    }
    const idleMb = await settledRss(daemon.pid!);
    for (let i = 0; i < ROOMS; i++) {
      const session = new Session({ notebookId: `bench-rss-${randomUUID()}`, socketPath, autoStart: false, reconnect: false });
      sessions.push(session);
      await session.connect();
      session.createCell("x = 1");
      await session.flush();
    }
    const roomsMb = await settledRss(daemon.pid!);
    return { idleMb, roomsMb };
  } finally {
    await Promise.all(sessions.map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
    await client.shutdown().catch(() => undefined);
    await waitExit(daemon, 10_000);
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

export const daemonRss: Metric = {
  name: "rss",
  async run(context: BenchContext): Promise<Row[]> {
    const tsx = await measureDaemon(context.workDir, (socket, cacheDir) => ["--import", "tsx", "lib/daemon/main.ts", "--socket", socket, "--cache-dir", cacheDir]);
    const outDir = path.join(context.workDir, "dist");
    const compiled = compileLib(outDir)
      ? await measureDaemon(context.workDir, (socket, cacheDir) => [path.join(outDir, "daemon", "main.js"), "--socket", socket, "--cache-dir", cacheDir], {
          ...process.env,
          NODE_PATH: path.join(REPO_ROOT, "node_modules"),
        })
      : null;
    const judged = compiled ?? tsx;
    const how = compiled
      ? `daemon compiled by tsc (as \`npm run build\` ships it) and run as \`node dist/daemon/main.js\`; under \`node --import tsx lib/daemon/main.ts\` it is ${tsx.idleMb.toFixed(1)} MB idle / ${tsx.roomsMb.toFixed(1)} MB with ${ROOMS} rooms (the tsx loader's own cost)`
      : "daemon run as `node --import tsx lib/daemon/main.ts` (tsc emitted nothing), tsx loader included";
    return [
      { metric: "daemon RSS, idle", unit: "MB", ours: judged.idleMb, floor: null, jlab: null, target: "< 80 MB", met: judged.idleMb < 80, notes: [how] },
      {
        metric: `daemon RSS, ${ROOMS} idle rooms`,
        unit: "MB",
        ours: judged.roomsMb,
        floor: null,
        jlab: null,
        target: "< 200 MB",
        met: judged.roomsMb < 200,
        notes: [`${ROOMS} rooms, each with one connected session and one cell, no kernel`],
      },
    ];
  },
};
