import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as Automerge from "@automerge/automerge";
import { Daemon } from "../../lib/daemon/daemon";
import { Session } from "../../lib/session/session";
import { killEverythingMentioning, makeTempDir } from "./processes";

jest.setTimeout(60_000);

/** How a room file gets damaged on disk. */
const DAMAGE: Record<string, (bytes: Buffer) => Buffer> = {
  "overwritten with garbage": () => randomBytes(4096),
  "truncated to half": (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)),
  "truncated to 10 bytes": (bytes) => bytes.subarray(0, 10),
  "a valid Automerge file of another shape": () => Buffer.from(Automerge.save(Automerge.from({ cells: "not a list", schema_version: "x" }))),
  "one flipped byte in the middle": (bytes) => {
    const copy = Buffer.from(bytes);
    copy[Math.floor(copy.length / 2)]! ^= 0xff;
    return copy;
  },
};

function roomFile(cacheDir: string, notebookId: string): string {
  return path.join(cacheDir, "notebook-docs", createHash("sha256").update(notebookId).digest("hex") + ".automerge");
}

async function withDaemon<T>(cacheDir: string, use: (socketPath: string) => Promise<T>): Promise<T> {
  const socketPath = path.join(cacheDir, "runtimed.sock");
  const daemon = await Daemon.start({ cacheDir, socketPath, saveDelayMs: 20 });
  try {
    return await use(socketPath);
  } finally {
    await daemon.stop();
  }
}

async function withSession<T>(socketPath: string, cacheDir: string, notebookId: string, use: (session: Session) => Promise<T>): Promise<T> {
  const session = new Session({ notebookId, socketPath, cacheDir, autoStart: false });
  try {
    await session.connect();
    return await use(session);
  } finally {
    await session.close({ shutdownKernel: false });
  }
}

describe("corrupt and truncated room files", () => {
  it.each(Object.keys(DAMAGE))("a room file %s is moved aside as .corrupt, the room starts fresh and works, and daemon.log warns", async (damage) => {
    const cacheDir = makeTempDir("corrupt");
    const notebookId = `damaged ${damage}`;
    try {
      await withDaemon(cacheDir, (socketPath) =>
        withSession(socketPath, cacheDir, notebookId, async (session) => {
          for (let i = 0; i < 20; i++) session.createCell(`print(${i})`);
          await session.flush();
        }),
      );
      const file = roomFile(cacheDir, notebookId);
      const saved = fs.readFileSync(file);
      expect(Automerge.load(saved)).toBeDefined();
      const damaged = DAMAGE[damage]!(saved);
      fs.writeFileSync(file, damaged);

      const recoveredId = await withDaemon(cacheDir, (socketPath) =>
        withSession(socketPath, cacheDir, notebookId, async (session) => {
          await session.sync();
          expect(session.getCells()).toEqual([]);
          const id = session.createCell("print('after recovery')");
          await session.flush();
          return id;
        }),
      );

      const aside = fs.readdirSync(path.dirname(file)).filter((name) => name.startsWith(path.basename(file)) && name.endsWith(".corrupt"));
      expect(aside).toHaveLength(1);
      expect(fs.readFileSync(path.join(path.dirname(file), aside[0]!)).equals(damaged)).toBe(true);
      const log = fs.readFileSync(path.join(cacheDir, "daemon.log"), "utf8");
      expect(log).toMatch(/WARN room file did not load; moved aside/);
      expect(log).toContain(aside[0]!);

      // The fresh document is saved normally and survives the next restart.
      await withDaemon(cacheDir, (socketPath) =>
        withSession(socketPath, cacheDir, notebookId, async (session) => {
          await session.sync();
          expect(session.getCells().map((cell) => [cell.id, cell.source])).toEqual([[recoveredId, "print('after recovery')"]]);
        }),
      );
    } finally {
      killEverythingMentioning(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("an empty room file is treated as corrupt too, not as a crash", async () => {
    const cacheDir = makeTempDir("corrupt-empty");
    const notebookId = "empty-file";
    try {
      fs.mkdirSync(path.join(cacheDir, "notebook-docs"), { recursive: true, mode: 0o700 });
      fs.writeFileSync(roomFile(cacheDir, notebookId), Buffer.alloc(0));
      await withDaemon(cacheDir, (socketPath) =>
        withSession(socketPath, cacheDir, notebookId, async (session) => {
          await session.sync();
          expect(session.getCells()).toEqual([]);
          session.createCell("1");
          await session.flush();
          expect(session.getCells()).toHaveLength(1);
        }),
      );
    } finally {
      killEverythingMentioning(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
