import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as Automerge from "@automerge/automerge";
import { BlobStore } from "../../lib/daemon/blob-store";
import { Logger } from "../../lib/daemon/logger";
import { RoomStore } from "../../lib/daemon/room-store";
import { insertCell } from "../../lib/notebook/cells";
import { createNotebookDoc, loadNotebookDoc } from "../../lib/notebook/schema";
import { RuntimedError } from "../../lib/protocol/errors";

// A real full disk: a 256 KiB tmpfs. Mounting needs root (CAP_SYS_ADMIN); without it these
// checks cannot be made honestly, and the one test left says so.
const DISK_BYTES = 256 * 1024;
const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-full-disk-"));
let mountError: string | undefined;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${DISK_BYTES}`, "tmpfs", mountPoint], { stdio: "pipe" });
} catch (error) {
  mountError = ((error as { stderr?: Buffer }).stderr?.toString() || (error as Error).message).trim();
}

afterAll(() => {
  if (!mountError) execFileSync("umount", [mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills the disk to the last byte; returns how to give the space back. */
function fillDisk(): () => void {
  const filler = path.join(mountPoint, "filler");
  const fd = fs.openSync(filler, "w");
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
  } finally {
    fs.closeSync(fd);
  }
  return () => fs.rmSync(filler, { force: true });
}

function expectStorageFailed(action: () => unknown): RuntimedError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RuntimedError);
  expect((thrown as RuntimedError).code).toBe("STORAGE_FAILED");
  expect((thrown as RuntimedError).message).toContain("the disk is full: free some space");
  return thrown as RuntimedError;
}

const leftovers = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).filter((name) => name.endsWith(".tmp"));

if (mountError) {
  describe("a full disk", () => {
    it(`cannot be simulated here, so its checks are skipped: mounting a tmpfs failed (${mountError})`, () => {
      expect(mountError).toBeTruthy();
    });
  });
} else {
  describe("a full disk (a 256 KiB tmpfs)", () => {
    it("a blob write fails with STORAGE_FAILED, leaves no partial file, and works again once there is space", () => {
      const store = new BlobStore(path.join(mountPoint, "blobs"));
      const small = store.put(Buffer.from("fits before the disk fills"), "text/plain");
      const freeSpace = fillDisk();
      try {
        expectStorageFailed(() => store.put(Buffer.alloc(64 * 1024, 7), "application/octet-stream"));
        expect(leftovers(store.directory)).toEqual([]);
        expect(store.read(small).toString()).toBe("fits before the disk fills");
      } finally {
        freeSpace();
      }
      const hash = store.put(Buffer.alloc(64 * 1024, 7), "application/octet-stream");
      expect(store.size(hash)).toBe(64 * 1024);
      fs.rmSync(store.directory, { recursive: true });
    });

    it("a document save fails with STORAGE_FAILED and leaves the previous save whole", () => {
      const store = new RoomStore(path.join(mountPoint, "notebook-docs"), new Logger(undefined));
      const first = Automerge.change(createNotebookDoc(), (draft) => void insertCell(draft, { id: "cell-1", cellType: "code", source: "saved" }));
      store.save("full-disk", first);
      const grown = Automerge.change(first, (draft) => void insertCell(draft, { id: "cell-2", cellType: "code", source: "x".repeat(300 * 1024) }));
      const freeSpace = fillDisk();
      try {
        const error = expectStorageFailed(() => store.save("full-disk", grown));
        expect(error.message).toContain("Could not save notebook full-disk");
        expect(leftovers(path.join(mountPoint, "notebook-docs"))).toEqual([]);
      } finally {
        freeSpace();
      }
      const reloaded = loadNotebookDoc(fs.readFileSync(store.pathFor("full-disk")));
      expect(reloaded.cells.map((cell) => String(cell.id))).toEqual(["cell-1"]);
      fs.rmSync(path.join(mountPoint, "notebook-docs"), { recursive: true });
    });

    it("the logger neither throws nor stops for good: lines written while the disk is full are dropped, later ones land", () => {
      const file = path.join(mountPoint, "daemon.log");
      const logger = new Logger(file, { maxBytes: 16 * 1024 });
      logger.info("before the disk filled");
      const freeSpace = fillDisk();
      try {
        expect(() => {
          for (let n = 0; n < 500; n++) logger.warn(`line ${n} while full ${"w".repeat(100)}`);
        }).not.toThrow();
      } finally {
        freeSpace();
      }
      logger.info("after space came back");
      logger.close();
      const text = [file, `${file}.1`, `${file}.2`, `${file}.3`].filter((each) => fs.existsSync(each)).map((each) => fs.readFileSync(each, "utf8")).join("");
      expect(text).toContain("INFO after space came back");
      for (const each of fs.readdirSync(mountPoint)) fs.rmSync(path.join(mountPoint, each), { recursive: true });
    });
  });
}
