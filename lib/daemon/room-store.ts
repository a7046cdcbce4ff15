import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as Automerge from "@automerge/automerge";
import { RuntimedError } from "../protocol/errors";
import { createNotebookDoc, loadNotebookDoc, type NotebookDoc } from "../notebook/schema";
import type { Logger } from "./logger";

/**
 * Where rooms persist: `<cache>/notebook-docs/<sha256(notebook id)>.automerge`. Saves are
 * atomic (write then rename); a file that does not load is moved aside as `.corrupt`.
 */
export class RoomStore {
  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  pathFor(notebookId: string): string {
    return path.join(this.dir, createHash("sha256").update(notebookId).digest("hex") + ".automerge");
  }

  load(notebookId: string): Automerge.Doc<NotebookDoc> {
    const file = this.pathFor(notebookId);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      return createNotebookDoc();
    }
    try {
      return loadNotebookDoc(bytes);
    } catch (error) {
      const aside = `${file}.${Date.now()}.corrupt`;
      fs.renameSync(file, aside);
      this.logger.warn("room file did not load; moved aside, starting a fresh document", {
        notebook_id: notebookId,
        file: aside,
        error: (error as Error).message,
      });
      return createNotebookDoc();
    }
  }

  /**
   * Writes a room's document. A write the disk refuses (full, read-only, I/O error) throws a
   * STORAGE_FAILED RuntimedError and leaves the previous save in place, whole.
   */
  save(notebookId: string, doc: Automerge.Doc<NotebookDoc>): void {
    const file = this.pathFor(notebookId);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(temp, Automerge.save(doc), { mode: 0o600 });
      fs.renameSync(temp, file);
    } catch (error) {
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // the next save overwrites it
      }
      const code = (error as NodeJS.ErrnoException).code;
      const hint = code === "ENOSPC" || code === "EDQUOT" ? " (the disk is full: free some space)" : "";
      throw new RuntimedError("STORAGE_FAILED", `Could not save notebook ${notebookId} to ${file}: ${(error as Error).message}${hint}`, { cause: error });
    }
  }
}
