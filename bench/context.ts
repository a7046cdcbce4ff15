/**
 * What every metric gets: the three clients, each with one long-lived warm kernel, and what a
 * metric hands back (rows of the table).
 */
import type { Kernel } from "@jupyterlab/services";
import type { Session } from "../lib/session/session";
import type { FloorExecution, FloorKernel } from "./floor-client";
import { JlabServer } from "./jlab-client";
import type { OursDaemon } from "./ours-daemon";

/** The three clients, ready to run code. */
export interface BenchContext {
  quick: boolean;
  workDir: string;
  floor: FloorKernel;
  ours: OursDaemon;
  /** A session with a running kernel in its own room. */
  oursSession: Session;
  /** jupyter_server for @jupyterlab/services (check `available`). */
  jlab: JlabServer;
  /** The long-lived kernel @jupyterlab/services drives; undefined when the server is n/a. */
  jlabKernel: Kernel.IKernelConnection | undefined;
}

/** One row of the table. Values are in `unit`; null means "not measured by this client". */
export interface Row {
  metric: string;
  unit: "ms" | "KB" | "MB";
  ours: number | null;
  floor: number | null;
  /** @jupyterlab/services through jupyter_server. */
  jlab: number | null;
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
  values: { ours: number; floor: number; jlab: number | null },
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

/** The note a row without a @jupyterlab/services figure carries. */
export function jlabNote(context: BenchContext): string[] {
  return context.jlab.available ? [] : [`@jupyterlab/services n/a (${context.jlab.unavailable})`];
}

/** `samples` when the server is there, else null (the column shows n/a). */
export function jlabValue(context: BenchContext, value: number): number | null {
  return context.jlab.available ? value : null;
}

/** Runs `code` on the long-lived @jupyterlab/services kernel. */
export function jlabExecute(context: BenchContext, code: string): Promise<FloorExecution> {
  if (!context.jlabKernel) throw new Error(`@jupyterlab/services: ${context.jlab.unavailable}`);
  return JlabServer.execute(context.jlabKernel, code);
}

/**
 * A batch function for `interleave` that runs only when jupyter_server is available (an
 * unavailable client contributes no samples).
 */
export function whenJlab(context: BenchContext, batch: (kernel: Kernel.IKernelConnection) => Promise<number[]>): () => Promise<number[]> {
  return async () => (context.jlabKernel ? batch(context.jlabKernel) : []);
}
