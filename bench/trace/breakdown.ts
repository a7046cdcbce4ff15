/**
 * Turns wire-tap events (bench/trace/tap.ts) from the client and the daemon into a per-step
 * timeline of one `1+1`: for each run, the first event of each step inside the run's window,
 * as ms since the client's call; medians over runs.
 */
import { median } from "../stats";
import type { TapEvent } from "./tap";

/** One execution as the client saw it: its call and its result, in ms since the epoch. */
export interface RunWindow {
  start: number;
  end: number;
}

/** A point on the path: whose tap saw it, and which event (first in the window) marks it. */
export interface Step {
  label: string;
  side: "client" | "daemon";
  dir: TapEvent["dir"];
  what: string;
  /** Use the kernel's header.date instead of when the message arrived. */
  kernelClock?: boolean;
}

/** The steps of one `1+1` through ours: client → daemon → kernel → daemon → client. */
export const OURS_STEPS: Step[] = [
  { label: "client → execute_cell request written", side: "client", dir: "out", what: "request execute_cell" },
  { label: "daemon ← execute_cell request read", side: "daemon", dir: "in", what: "request execute_cell" },
  { label: "daemon → execute_request sent (zmq)", side: "daemon", dir: "out", what: "zmq execute_request" },
  { label: "kernel: status busy (header.date)", side: "daemon", dir: "in", what: "zmq status busy", kernelClock: true },
  { label: "kernel: execute_input (header.date)", side: "daemon", dir: "in", what: "zmq execute_input", kernelClock: true },
  { label: "kernel: stream (header.date)", side: "daemon", dir: "in", what: "zmq stream", kernelClock: true },
  { label: "kernel: execute_result (header.date)", side: "daemon", dir: "in", what: "zmq execute_result", kernelClock: true },
  { label: "kernel: status idle (header.date)", side: "daemon", dir: "in", what: "zmq status idle", kernelClock: true },
  { label: "kernel: execute_reply (header.date)", side: "daemon", dir: "in", what: "zmq execute_reply", kernelClock: true },
  { label: "daemon ← stream read", side: "daemon", dir: "in", what: "zmq stream" },
  { label: "daemon → stream append written", side: "daemon", dir: "out", what: "stream append" },
  { label: "client ← stream append read", side: "client", dir: "in", what: "stream append" },
  { label: "daemon ← execute_result read", side: "daemon", dir: "in", what: "zmq execute_result" },
  { label: "daemon ← status idle read", side: "daemon", dir: "in", what: "zmq status idle" },
  { label: "daemon ← execute_reply read", side: "daemon", dir: "in", what: "zmq execute_reply" },
  { label: "daemon → execution_done broadcast written", side: "daemon", dir: "out", what: "broadcast execution_done" },
  { label: "client ← execution_done broadcast read", side: "client", dir: "in", what: "broadcast execution_done" },
];

/** The same path through the floor (one process talking ZeroMQ to the kernel). */
export const FLOOR_STEPS: Step[] = [
  { label: "floor → execute_request sent (zmq)", side: "client", dir: "out", what: "zmq execute_request" },
  { label: "kernel: status busy (header.date)", side: "client", dir: "in", what: "zmq status busy", kernelClock: true },
  { label: "kernel: execute_input (header.date)", side: "client", dir: "in", what: "zmq execute_input", kernelClock: true },
  { label: "kernel: stream (header.date)", side: "client", dir: "in", what: "zmq stream", kernelClock: true },
  { label: "kernel: execute_result (header.date)", side: "client", dir: "in", what: "zmq execute_result", kernelClock: true },
  { label: "kernel: status idle (header.date)", side: "client", dir: "in", what: "zmq status idle", kernelClock: true },
  { label: "kernel: execute_reply (header.date)", side: "client", dir: "in", what: "zmq execute_reply", kernelClock: true },
  { label: "floor ← stream read", side: "client", dir: "in", what: "zmq stream" },
  { label: "floor ← status idle read", side: "client", dir: "in", what: "zmq status idle" },
  { label: "floor ← execute_reply read", side: "client", dir: "in", what: "zmq execute_reply" },
];

function inWindow(events: TapEvent[], window: RunWindow): TapEvent[] {
  // Events are in time order per process; a linear filter is plenty for a few hundred runs.
  return events.filter((event) => event.at >= window.start && event.at <= window.end);
}

/** Median ms since the call for each step (NaN where a step was never seen), and the total. */
export function timeline(steps: Step[], windows: RunWindow[], events: { client: TapEvent[]; daemon: TapEvent[] }): { label: string; at: number; seen: number }[] {
  const offsets = steps.map(() => [] as number[]);
  for (const window of windows) {
    const mine = { client: inWindow(events.client, window), daemon: inWindow(events.daemon, window) };
    steps.forEach((step, index) => {
      const event = mine[step.side].find((candidate) => candidate.dir === step.dir && candidate.what === step.what);
      if (!event) return;
      offsets[index]!.push((step.kernelClock ? event.kernelAt! : event.at) - window.start);
    });
  }
  const rows = steps.map((step, index) => ({ label: step.label, at: median(offsets[index]!), seen: offsets[index]!.length }));
  rows.push({ label: "result in the caller's hands", at: median(windows.map((window) => window.end - window.start)), seen: windows.length });
  return rows;
}

/** Frames per run by kind, both directions (e.g. "daemon → client: 3 sync, 4 broadcast output"). */
export function frameCounts(windows: RunWindow[], events: TapEvent[], dir: TapEvent["dir"], filter: (event: TapEvent) => boolean): string {
  const counts = new Map<string, { frames: number; bytes: number }>();
  for (const window of windows) {
    for (const event of inWindow(events, window)) {
      if (event.dir !== dir || !filter(event)) continue;
      const entry = counts.get(event.what) ?? { frames: 0, bytes: 0 };
      entry.frames++;
      entry.bytes += event.bytes;
      counts.set(event.what, entry);
    }
  }
  return [...counts]
    .sort((a, b) => b[1].frames - a[1].frames)
    .map(([what, { frames, bytes }]) => `${(frames / windows.length).toFixed(2)}× ${what} (${Math.round(bytes / frames)} B)`)
    .join(", ");
}

/** The timeline as text: step, ms since the call, Δ from the previous step, runs that saw it. */
export function renderTimeline(title: string, rows: { label: string; at: number; seen: number }[]): string {
  const width = Math.max(...rows.map((row) => row.label.length));
  let previous = 0;
  const lines = rows.filter((row) => row.seen > 0).map((row) => {
    const delta = Number.isNaN(row.at) ? NaN : row.at - previous;
    if (!Number.isNaN(row.at)) previous = row.at;
    return `  ${row.label.padEnd(width)}  ${row.at.toFixed(2).padStart(7)} ms  Δ ${delta.toFixed(2).padStart(6)} ms  (${row.seen} runs)`;
  });
  return [title, ...lines].join("\n");
}
