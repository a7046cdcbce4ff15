/**
 * Daemon memory: a daemon in its own process (as users run it), RSS from /proc when idle and
 * with 100 idle rooms (one connected session and one cell each, no kernels).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { Session } from "../../lib/session/session";
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

function spawnNode(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] });
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

export const daemonRss: Metric = {
  name: "rss",
  async run(context: BenchContext): Promise<Row[]> {
    const cacheDir = fs.mkdtempSync(path.join(context.workDir, "rss-"));
    const socketPath = path.join(cacheDir, "runtimed.sock");
    // What `--import tsx` itself costs: the same loader running nothing.
    const bare = spawnNode(["-e", "setInterval(() => {}, 1000)"]);
    const daemon = spawnNode(["lib/daemon/main.ts", "--socket", socketPath, "--cache-dir", cacheDir]);
    const client = new DaemonClient({ socketPath });
    const sessions: Session[] = [];
    try {
      const deadline = Date.now() + 30_000;
      while (!(await client.isRunning())) {
        if (Date.now() > deadline || daemon.exitCode !== null) throw new Error("the daemon process did not come up within 30 s");
        await sleep(100);
      }
      const loaderMb = await settledRss(bare.pid!);
      bare.kill("SIGTERM");
      const idleMb = await settledRss(daemon.pid!);
      for (let i = 0; i < ROOMS; i++) {
        const session = new Session({ notebookId: `bench-rss-${randomUUID()}`, socketPath, autoStart: false, reconnect: false });
        sessions.push(session);
        await session.connect();
        session.createCell("x = 1");
        await session.flush();
      }
      const roomsMb = await settledRss(daemon.pid!);
      const note = `daemon spawned as \`node --import tsx lib/daemon/main.ts\`; the tsx loader alone (node --import tsx, idle) is ${loaderMb.toFixed(1)} MB of that`;
      return [
        { metric: "daemon RSS, idle", unit: "MB", ours: idleMb, floor: null, peer: null, target: "< 80 MB", met: idleMb < 80, notes: [note] },
        {
          metric: `daemon RSS, ${ROOMS} idle rooms`,
          unit: "MB",
          ours: roomsMb,
          floor: null,
          peer: null,
          target: "< 200 MB",
          met: roomsMb < 200,
          notes: [`${ROOMS} rooms, each with one connected session and one cell, no kernel`],
        },
      ];
    } finally {
      await Promise.all(sessions.map((session) => session.close({ shutdownKernel: false }).catch(() => undefined)));
      await client.shutdown().catch(() => undefined);
      await waitExit(daemon, 10_000);
      bare.kill("SIGKILL");
      await waitExit(bare, 1000);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  },
};
