import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as Automerge from "@automerge/automerge";
import { notebookBlobHashes } from "../../lib/outputs/blob-refs";
import { daemonFiles } from "../../lib/transport/paths";
import { DaemonClient } from "../../lib/transport/daemon-client";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { waitFor } from "./processes";

jest.setTimeout(180_000);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const TWO_HOURS_AGO = new Date(Date.now() - 2 * 3600_000);

function blobFile(room: TestRoom, hash: string): string {
  return path.join(daemonFiles(room.cacheDir).blobs, hash.slice(0, 2), hash);
}

/** A blob as the store writes it, with its meta file, and optionally backdated. */
function plantBlob(room: TestRoom, text: string, old: boolean): string {
  const hash = sha256(text);
  const file = blobFile(room, hash);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.json`, JSON.stringify({ media_type: "text/plain", size: text.length }));
  fs.writeFileSync(file, text);
  if (old) for (const each of [file, `${file}.json`]) fs.utimesSync(each, TWO_HOURS_AGO, TWO_HOURS_AGO);
  return hash;
}

/** The blob hashes the saved document of `notebookId` refers to. */
function savedReferences(room: TestRoom, notebookId: string): Set<string> {
  const file = path.join(daemonFiles(room.cacheDir).notebookDocs, sha256(notebookId) + ".automerge");
  return fs.existsSync(file) ? notebookBlobHashes(Automerge.load(fs.readFileSync(file))) : new Set();
}

describe("blob collection", () => {
  let room: TestRoom;
  let client: DaemonClient;

  beforeAll(async () => {
    room = await startTestDaemon({ blobGraceSecs: 600, blobCollectIntervalSecs: 0, roomIdleSecs: 1 });
    client = new DaemonClient({ socketPath: room.socketPath });
  });
  afterAll(async () => {
    await room?.dispose();
    if (room) removeDir(room.cacheDir);
  });

  it("removes the blob of a deleted cell's output once the notebook is saved, and keeps blobs a loaded room or a saved notebook still refers to", async () => {
    // A notebook that is saved and unloaded: only its file refers to its blob.
    const other = room.session({ notebookId: "gc-saved-elsewhere" });
    const elsewhere = await other.run("print('s' * 20000)", { timeoutSecs: 90 });
    expect(elsewhere.success).toBe(true);
    const savedHash = sha256("s".repeat(20000) + "\n");
    await other.close();
    await waitFor("the other room to be unloaded", async () => !(await client.listRooms()).some((listed) => listed.notebookId === "gc-saved-elsewhere"), 60_000);

    const session = room.session({ notebookId: "gc-deleted-cell" });
    const doomed = session.createCell("print('d' * 20000)");
    const kept = session.createCell("print('k' * 20000)");
    expect((await session.executeCell(doomed, { timeoutSecs: 90 })).success).toBe(true);
    expect((await session.executeCell(kept, { timeoutSecs: 90 })).success).toBe(true);
    const doomedHash = sha256("d".repeat(20000) + "\n");
    const keptHash = sha256("k".repeat(20000) + "\n");
    for (const hash of [doomedHash, keptHash, savedHash]) expect(fs.existsSync(blobFile(room, hash))).toBe(true);

    session.deleteCell(doomed);
    await session.flush();
    await waitFor("the notebook to be saved without the deleted cell", () => !savedReferences(room, "gc-deleted-cell").has(doomedHash), 30_000);

    const report = await client.collectGarbage({ graceSecs: 0 });
    expect(report).toMatchObject({ removed: 1, skipped: null });
    expect(report.freedBytes).toBeGreaterThanOrEqual(20001);
    expect(report.kept).toBeGreaterThanOrEqual(2);
    expect(fs.existsSync(blobFile(room, doomedHash))).toBe(false);
    expect(fs.existsSync(`${blobFile(room, doomedHash)}.json`)).toBe(false);
    expect(fs.existsSync(blobFile(room, keptHash))).toBe(true);
    expect(fs.existsSync(blobFile(room, savedHash))).toBe(true);
    // What is kept still reads back whole: a new session sees the kept output.
    const reader = room.session({ notebookId: "gc-deleted-cell" });
    await reader.connect();
    expect(reader.getCells().map((cell) => cell.id)).toEqual([kept]);
    await reader.close();
    await session.close({ shutdownKernel: false });
  });

  it("keeps unreferenced blobs and temp files younger than the grace period, and removes older ones", async () => {
    const blobs = daemonFiles(room.cacheDir).blobs;
    const oldBlob = plantBlob(room, "an old blob nobody refers to", true);
    const freshBlob = plantBlob(room, "a blob being written right now", false);
    const shard = path.join(blobs, freshBlob.slice(0, 2));
    const freshTemp = path.join(shard, `.${freshBlob}.4242.a1b2c3d4e5f6.tmp`);
    const oldTemp = path.join(shard, `.${oldBlob}.4242.0f0e0d0c0b0a.tmp`);
    const orphanMeta = path.join(shard, `${"e".repeat(64)}.json`);
    fs.writeFileSync(freshTemp, "half a blob");
    fs.writeFileSync(oldTemp, "what a crash left behind");
    fs.writeFileSync(orphanMeta, "{}");
    for (const file of [oldTemp, orphanMeta]) fs.utimesSync(file, TWO_HOURS_AGO, TWO_HOURS_AGO);
    const unrelated = path.join(shard, "README");
    fs.writeFileSync(unrelated, "not the store's");
    fs.utimesSync(unrelated, TWO_HOURS_AGO, TWO_HOURS_AGO);

    const report = await client.collectGarbage();
    expect(report).toMatchObject({ removed: 1, skipped: null });
    expect(fs.existsSync(blobFile(room, oldBlob))).toBe(false);
    expect(fs.existsSync(oldTemp)).toBe(false);
    expect(fs.existsSync(orphanMeta)).toBe(false);
    expect(fs.existsSync(blobFile(room, freshBlob))).toBe(true);
    expect(fs.existsSync(freshTemp)).toBe(true);
    expect(fs.existsSync(unrelated)).toBe(true);
    for (const file of [unrelated, freshTemp, blobFile(room, freshBlob), `${blobFile(room, freshBlob)}.json`]) fs.rmSync(file);
  });

  it("a blob stored again by a new output gets a fresh mtime, so the grace period covers it again however old its file", async () => {
    const session = room.session({ notebookId: "gc-stored-again" });
    const first = session.createCell("print('a' * 20000)");
    expect((await session.executeCell(first, { timeoutSecs: 90 })).success).toBe(true);
    const hash = sha256("a".repeat(20000) + "\n");
    fs.utimesSync(blobFile(room, hash), TWO_HOURS_AGO, TWO_HOURS_AGO);
    session.deleteCell(first);
    // The same bytes again, as a new cell's output, while the old file looks abandoned.
    const again = session.createCell("print('a' * 20000)");
    expect((await session.executeCell(again, { timeoutSecs: 90 })).success).toBe(true);
    expect(fs.statSync(blobFile(room, hash)).mtimeMs).toBeGreaterThan(TWO_HOURS_AGO.getTime() + 3600_000);
    await session.close({ shutdownKernel: true });
  });

  it("a saved notebook that cannot be read stops the collection (nothing removed, the reason given and logged) until it is moved away", async () => {
    const oldBlob = plantBlob(room, "old, and perhaps referenced by the unreadable notebook", true);
    const corrupt = path.join(daemonFiles(room.cacheDir).notebookDocs, "f".repeat(64) + ".automerge");
    fs.writeFileSync(corrupt, "this is not an Automerge document");
    const report = await client.collectGarbage({ graceSecs: 0 });
    expect(report).toMatchObject({ removed: 0, freedBytes: 0 });
    expect(report.skipped).toContain(corrupt);
    expect(fs.existsSync(blobFile(room, oldBlob))).toBe(true);
    expect(fs.readFileSync(daemonFiles(room.cacheDir).log, "utf8")).toContain("blob collection skipped: a saved notebook could not be read");

    fs.renameSync(corrupt, path.join(room.cacheDir, "set-aside.automerge"));
    expect(await client.collectGarbage({ graceSecs: 0 })).toMatchObject({ removed: 1, skipped: null });
    expect(fs.existsSync(blobFile(room, oldBlob))).toBe(false);
  });
});

describe("background blob collection", () => {
  it("runs on its own shortly after start and then every interval, and logs what it did", async () => {
    const room = await startTestDaemon({ blobGraceSecs: 0, blobCollectIntervalSecs: 1 });
    try {
      const first = plantBlob(room, "collected by the first run", true);
      await waitFor("the first background run", () => !fs.existsSync(blobFile(room, first)), 30_000);
      const second = plantBlob(room, "collected by a later run", true);
      await waitFor("a later background run", () => !fs.existsSync(blobFile(room, second)), 30_000);
      expect(fs.readFileSync(daemonFiles(room.cacheDir).log, "utf8")).toMatch(/INFO blob collection \{"removed":1,/);
    } finally {
      await room.dispose();
      removeDir(room.cacheDir);
    }
  });
});
