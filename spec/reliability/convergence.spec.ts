import type { Session } from "../../lib/session/session";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { killEverythingMentioning, makeTempDir, within } from "./processes";

jest.setTimeout(300_000);

const ROOMS = 10;
const SESSIONS_PER_ROOM = 5;
const EDITS_PER_SESSION = 100;

let room: TestRoom;

beforeAll(async () => {
  room = await startTestDaemon({ cacheDir: makeTempDir("converge") });
});

afterAll(async () => {
  await room?.dispose();
  if (room) {
    killEverythingMentioning(room.cacheDir);
    removeDir(room.cacheDir);
  }
});

/**
 * One client's share of the work: every fifth edit creates a cell, the rest rewrite one of its
 * own cells, and every tenth also rewrites the room's shared cell (concurrent text edits).
 * Returns the last source it wrote to each of its own cells.
 */
async function edit(session: Session, label: string, sharedCellId: string): Promise<Map<string, string>> {
  const mine = new Map<string, string>();
  for (let n = 0; n < EDITS_PER_SESSION; n++) {
    if (n % 5 === 0) {
      const source = `${label}: cell ${n}`;
      mine.set(session.createCell(source), source);
    } else {
      const ids = [...mine.keys()];
      const id = ids[n % ids.length]!;
      const source = `${label}: edit ${n}\n${"#".repeat(n % 7)}`;
      session.setSource(id, source);
      mine.set(id, source);
    }
    if (n % 10 === 9) session.setSource(sharedCellId, `${session.getCell(sharedCellId).source}${label}@${n};`);
    // Let every other client's edits and the daemon's sync messages interleave with ours.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return mine;
}

describe("many clients editing many rooms at once", () => {
  it(`${ROOMS * SESSIONS_PER_ROOM} sessions in ${ROOMS} rooms making ${EDITS_PER_SESSION} edits each converge on identical documents with nothing lost`, async () => {
    const started = Date.now();
    const rooms = Array.from({ length: ROOMS }, (_, r) => {
      const sessions = Array.from({ length: SESSIONS_PER_ROOM }, () => room.session({ notebookId: `converge-${r}` }));
      return { id: `converge-${r}`, sessions };
    });
    const all = rooms.flatMap((r) => r.sessions);
    await within("every session to connect", Promise.all(all.map((session) => session.connect())), 30_000);
    // One shared cell per room, known to everyone before the edits start.
    const sharedCells = await Promise.all(
      rooms.map(async ({ sessions: [owner, ...others] }) => {
        const id = owner!.createCell("shared:");
        await owner!.flush();
        await Promise.all(others.map((session) => session.sync()));
        return id;
      }),
    );

    const written = await within(
      "every edit",
      Promise.all(rooms.flatMap(({ sessions }, r) => sessions.map((session, s) => edit(session, `r${r}s${s}`, sharedCells[r]!)))),
      240_000,
    );
    await within("every flush", Promise.all(all.map((session) => session.flush())), 30_000);
    await within("every sync", Promise.all(all.map((session) => session.sync())), 30_000);
    const elapsed = Date.now() - started;

    let cellsChecked = 0;
    for (const [r, { sessions }] of rooms.entries()) {
      const reference = sessions[0]!.getCells();
      for (const session of sessions.slice(1)) expect(session.getCells()).toEqual(reference);
      const byId = new Map(reference.map((cell) => [cell.id, cell.source]));
      expect(byId.size).toBe(reference.length);
      const expectedCells = 1 + SESSIONS_PER_ROOM * (EDITS_PER_SESSION / 5);
      expect(reference).toHaveLength(expectedCells);
      for (let s = 0; s < SESSIONS_PER_ROOM; s++) {
        for (const [id, source] of written[r * SESSIONS_PER_ROOM + s]!) {
          expect(byId.get(id)).toBe(source);
          cellsChecked++;
        }
        // Every client's appends to the shared cell survived the concurrent rewrites.
        for (let n = 9; n < EDITS_PER_SESSION; n += 10) expect(byId.get(sharedCells[r]!)).toContain(`r${r}s${s}@${n};`);
      }
    }
    process.stdout.write(
      `convergence: ${all.length} sessions x ${EDITS_PER_SESSION} edits in ${ROOMS} rooms converged in ${elapsed} ms; ${cellsChecked} cells checked\n`,
    );
  });
});
