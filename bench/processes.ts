/** Process helpers for the benchmark: waiting for an exit, and killing a process with what it started. */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Direct children of `pid`, read from /proc (Linux). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // After the command (which may hold spaces and parentheses) come: state, ppid, ...
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process went away meanwhile
    }
  }
  return children;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/**
 * SIGKILLs `pid` and everything below it. Kernels run in their own sessions (the daemon and
 * jupyter_client both start them detached), so a process-group kill would miss them; children
 * are found by parent pid, and each child's own group is killed too (ipykernel's subprocesses).
 */
export function killTree(pid: number): void {
  const children = childPids(pid);
  signal(pid, "SIGSTOP"); // no new children while we collect the old ones
  for (const child of children) {
    killTree(child);
    signal(-child, "SIGKILL");
  }
  signal(pid, "SIGKILL");
}

/** True while `pid` exists (and is not a zombie we could reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for a child to exit; after `ms`, kills it and what it started. */
export async function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const timer = setTimeout(() => child.pid !== undefined && killTree(child.pid), ms);
  await exited;
  clearTimeout(timer);
}

/** Waits until a process we did not spawn (an auto-started daemon) is gone; kills it and its tree after `ms`. */
export async function waitGone(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      killTree(pid);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** CPU time (user + system) a process has used so far, ms, from /proc (10 ms clock ticks). */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // After the command come field 3 (state) onwards; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * Node flags that make a process the benchmark starts write a CPU profile into
 * `$BENCH_CPU_PROF/<name>/` (the daemon, the propagation writer and readers), or none when
 * `BENCH_CPU_PROF` is unset. (`--cpu-prof` is not allowed in NODE_OPTIONS.)
 */
export function cpuProfileArgs(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return [];
  return ["--cpu-prof", `--cpu-prof-dir=${path.join(dir, name)}`, "--cpu-prof-interval=250"];
}
