import { DaemonClient } from "../transport/daemon-client";
import { parseCommandArgs, wantsHelp } from "./args";
import type { CliContext } from "./context";
import { formatTable, plural } from "./format";

/** Help for `runtimed rooms`. */
export const roomsHelp = `Usage: runtimed rooms [--json]

List the daemon's open notebook rooms: notebook id, connected clients, kernel status and the
environment the kernel runs in. Does not start a daemon.

Options:
  --json          Print the rooms as JSON
  --socket PATH   The daemon's socket
  -h, --help      Show this help
`;

/** Help for `runtimed pool`. */
export const poolHelp = `Usage: runtimed pool [--flush] [--json]

Show the daemon's pool of prewarmed environments and kernels, per backend. Does not start a daemon.

Options:
  --flush         Discard every prewarmed environment and kernel; the pool refills in the background
  --json          Print the pool as JSON
  --socket PATH   The daemon's socket
  -h, --help      Show this help
`;

/** `runtimed rooms`: one line per room. */
export async function roomsCommand(argv: string[], context: CliContext): Promise<number> {
  if (wantsHelp(argv)) {
    context.stdout.write(roomsHelp);
    return 0;
  }
  const { values } = parseCommandArgs(argv, { json: { type: "boolean" } }, "runtimed rooms --help");
  const rooms = await new DaemonClient({ socketPath: context.socketPath }).listRooms();
  if (values.json) {
    context.stdout.write(JSON.stringify(rooms, null, 2) + "\n");
    return 0;
  }
  if (rooms.length === 0) {
    context.stdout.write("No open rooms. A room opens when a session connects to a notebook.\n");
    return 0;
  }
  const rows = rooms.map((room) => [room.notebookId, String(room.clients), room.kernelStatus, room.envSource ?? "-"]);
  context.stdout.write(formatTable(["NOTEBOOK", "CLIENTS", "KERNEL", "ENV"], rows));
  return 0;
}

/** `runtimed pool`: what is prewarmed, and `--flush` to discard it. */
export async function poolCommand(argv: string[], context: CliContext): Promise<number> {
  if (wantsHelp(argv)) {
    context.stdout.write(poolHelp);
    return 0;
  }
  const { values } = parseCommandArgs(argv, { flush: { type: "boolean" }, json: { type: "boolean" } }, "runtimed pool --help");
  const client = new DaemonClient({ socketPath: context.socketPath });
  if (values.flush) {
    await client.flushPool();
    context.stderr.write("Pool flushed; it refills in the background.\n");
  }
  const { pool } = await client.status();
  if (values.json) {
    context.stdout.write(JSON.stringify(pool, null, 2) + "\n");
    return 0;
  }
  if (pool.length === 0) {
    context.stdout.write("The pool is empty: nothing is prewarmed yet.\n");
    return 0;
  }
  const rows = pool.map((entry) => [entry.backend, String(entry.ready), String(entry.building)]);
  context.stdout.write(formatTable(["BACKEND", "READY", "BUILDING"], rows));
  // The "kernel" row is the running kernel kept ready, not an environment.
  const environments = pool.filter((entry) => entry.backend !== "kernel").reduce((sum, entry) => sum + entry.ready, 0);
  const kernels = pool.filter((entry) => entry.backend === "kernel").reduce((sum, entry) => sum + entry.ready, 0);
  context.stdout.write(`${plural(environments, "environment")} and ${plural(kernels, "running kernel")} ready\n`);
  return 0;
}
