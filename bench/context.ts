/**
 * What every metric gets: the three clients, each with one long-lived warm kernel, and what a
 * metric hands back (rows of the table).
 */
import type { Session } from "../lib/session/session";
import type { FloorKernel } from "./floor-client";
import type { OursDaemon } from "./ours-daemon";
import type { PeerClient } from "./peer-client";

/** The three clients, ready to run code. */
export interface BenchContext {
  quick: boolean;
  workDir: string;
  floor: FloorKernel;
  ours: OursDaemon;
  /** A session with a running kernel in its own room. */
  oursSession: Session;
  peer: PeerClient;
  /** The name of the peer's long-lived kernel. */
  peerKernel: string;
}

/** One row of the table. Values are in `unit`; null means "not measured by this client". */
export interface Row {
  metric: string;
  unit: "ms" | "KB" | "MB";
  ours: number | null;
  floor: number | null;
  peer: number | null;
  /** Human-readable target, e.g. "≤ 1.15× floor". */
  target: string;
  /** Whether ours meets the target (null: nothing to judge). */
  met: boolean | null;
  /** Why a column is n/a, or what exactly a client measured. */
  notes: string[];
}

/** A group of metrics selectable with `--only <name>`. */
export interface Metric {
  name: string;
  run(context: BenchContext): Promise<Row[]>;
}

/** Builds a row judged by the ratio ours/floor against `maxRatio`. */
export function ratioRow(
  metric: string,
  values: { ours: number; floor: number; peer: number | null },
  maxRatio: number,
  notes: string[] = [],
): Row {
  return {
    metric,
    unit: "ms",
    ...values,
    target: `≤ ${maxRatio}× floor`,
    met: values.ours / values.floor <= maxRatio,
    notes,
  };
}

/** The note a peer-less row carries. */
export function peerNote(context: BenchContext): string[] {
  return context.peer.available ? [] : [`peer n/a (${context.peer.unavailable})`];
}

/** Runs a peer command when jupyter_client is there; null otherwise. */
export async function peerSamples(context: BenchContext, command: Record<string, unknown>): Promise<number[]> {
  if (!context.peer.available) return [];
  const answer = await context.peer.expect(command);
  return answer.samples ?? (answer.ms !== undefined ? [answer.ms] : []);
}
