/**
 * One process of the edit-propagation metric (bench/metrics/propagation.ts), driven over the
 * IPC channel: `writer` edits a cell on a schedule, stamping each edit with its number and the
 * time it was made; `reader` is a `Session` whose `patches$` handler calls `getCells()` and
 * notes when each edit number first shows up. Times are `performance.timeOrigin +
 * performance.now()` (ms since the epoch, sub-ms), comparable across processes on one machine.
 *
 * The edits are `stamp` (each rewrites the cell as `# edit <n> at <time>`: ~15 characters replaced
 * per edit) or `typing` (each appends one character, as a person types: edit n is the cell's
 * length). Automerge applies a change in time that grows with the edited text's history, so the
 * two tell the pipeline's cost from the history's.
 *
 * `node --import tsx bench/propagation-child.ts <writer|reader> <socketPath> <notebookId> <stamp|typing>`
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Session } from "../lib";

/** parent → child */
export type ToChild =
  | { type: "start"; edits: number; intervalMs: number; warmup: number; settleMs: number }
  | { type: "measure" }
  | { type: "report"; lastSeq: number; waitMs: number }
  | { type: "close" };
/** child → parent */
export type FromChild =
  | { type: "ready" }
  | { type: "warmedUp" }
  | { type: "sent"; sent: [seq: number, atMs: number][]; cpuMs: number; measuredCpuMs: number }
  | { type: "report"; arrivals: [seq: number, atMs: number][]; cpuMs: number; measuredCpuMs: number }
  | { type: "error"; message: string };

const EDIT = /^# edit (\d+) at /;

/** How edit `seq` rewrites the cell, and which edit a cell's source shows (null: none yet). */
export type EditKind = "stamp" | "typing";
const edits: Record<EditKind, { source(seq: number, at: number): string; seq(source: string): number | null }> = {
  stamp: {
    source: (seq, at) => `# edit ${seq} at ${at}`,
    seq: (source) => {
      const match = EDIT.exec(source);
      return match ? Number(match[1]) : null;
    },
  },
  typing: {
    source: (seq) => `# ${"x".repeat(seq)}`,
    seq: (source) => (source.startsWith("# ") ? source.length - 2 : null),
  },
};

function clock(): number {
  return performance.timeOrigin + performance.now();
}

/** CPU time of this process (user + system), ms. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function send(message: FromChild): void {
  process.send!(message);
}

/** With BENCH_CPU_PROF, where the measured part of this process's profile starts and ends (profile-summary --from/--to). */
const profileWindow = { from: 0, to: 0 };
function noteWindow(edge: "from" | "to"): void {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return;
  profileWindow[edge] = Number(process.hrtime.bigint() / 1000n);
  if (edge !== "to") return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `window-${process.argv[2]}-${process.pid}.json`), JSON.stringify(profileWindow));
}

async function writer(session: Session, edit: (typeof edits)[EditKind]): Promise<void> {
  await session.connect();
  const cellId = session.createCell(edit.source(0, clock()));
  await session.flush();
  send({ type: "ready" });
  process.on("message", (message: ToChild) => {
    if (message.type !== "start") return;
    // Edits 1..warmup run first code paths in every process (JIT, lazy modules, V8's tier-up of
    // Automerge's wasm); then a pause lets everyone settle before the measured edits. Every
    // edit's time is reported: the parent shows the warm-up's figures apart.
    const sent: [number, number][] = [];
    noteWindow("from");
    const cpuBefore = cpuMs();
    let cpuMeasured = 0;
    const last = message.warmup + message.edits;
    const begin = clock();
    const due = (seq: number) => begin + seq * message.intervalMs + (seq > message.warmup ? message.settleMs : 0);
    const next = (seq: number) => {
      if (seq === message.warmup + 1) cpuMeasured = cpuMs();
      const at = clock();
      session.setSource(cellId, edit.source(seq, at));
      sent.push([seq, at]);
      // The pause after the warm-up: the parent tells everyone to start counting CPU time then.
      if (seq === message.warmup) send({ type: "warmedUp" });
      if (seq === last) {
        noteWindow("to");
        const now = cpuMs();
        send({ type: "sent", sent, cpuMs: now - cpuBefore, measuredCpuMs: now - cpuMeasured });
        return;
      }
      // Against the schedule, not after the previous edit: a slow edit does not stretch the run.
      setTimeout(() => next(seq + 1), Math.max(0, due(seq + 1) - clock()));
    };
    next(1);
  });
}

async function reader(session: Session, edit: (typeof edits)[EditKind]): Promise<void> {
  const arrivals: [number, number][] = [];
  let lastSeq = -1;
  let seen: () => void = () => undefined;
  session.patches$.subscribe(() => {
    const cells = session.getCells();
    const at = clock();
    const seq = cells.length > 0 ? edit.seq(cells[0]!.source) : null;
    if (seq === null) return;
    // Edits that arrived together (one sync message) were all seen now.
    for (let s = lastSeq + 1; s <= seq; s++) if (s > 0) arrivals.push([s, at]);
    if (seq > lastSeq) lastSeq = seq;
    seen();
  });
  await session.connect();
  if (lastSeq < 0) await new Promise<void>((resolve) => (seen = () => lastSeq >= 0 && resolve()));
  send({ type: "ready" });
  noteWindow("from");
  const cpuBefore = cpuMs();
  let cpuMeasured = cpuBefore;
  process.on("message", (message: ToChild) => {
    if (message.type === "measure") cpuMeasured = cpuMs();
    if (message.type !== "report") return;
    const report = () => {
      noteWindow("to");
      const now = cpuMs();
      send({ type: "report", arrivals, cpuMs: now - cpuBefore, measuredCpuMs: now - cpuMeasured });
    };
    const deadline = setTimeout(report, message.waitMs);
    const check = () => {
      if (lastSeq < message.lastSeq) return;
      clearTimeout(deadline);
      report();
    };
    seen = check;
    check();
  });
}

async function main(): Promise<void> {
  const [role, socketPath, notebookId, kind = "stamp"] = process.argv.slice(2);
  const edit = edits[kind as EditKind];
  if (!edit) throw new Error(`unknown edit kind ${kind}`);
  const session = new Session({ notebookId, socketPath, autoStart: false, reconnect: false });
  process.on("message", (message: ToChild) => {
    if (message.type === "close") void session.close({ shutdownKernel: false }).finally(() => process.exit(0));
  });
  // The parent going away (crash, Ctrl-C) must not leave this process behind.
  process.on("disconnect", () => process.exit(0));
  if (role === "writer") await writer(session, edit);
  else if (role === "reader") await reader(session, edit);
  else throw new Error(`unknown role ${role}`);
}

main().catch((error: unknown) => {
  send({ type: "error", message: (error as Error).stack ?? String(error) });
  process.exit(1);
});
