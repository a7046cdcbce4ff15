import * as fs from "node:fs";
import * as path from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import * as Automerge from "@automerge/automerge";
import { notebookBlobHashes } from "../outputs/blob-refs";
import { isBlobTempFile } from "./blob-store";
import type { Logger } from "./logger";

/** What one collection did. */
export interface CollectionReport {
  /** Blobs removed (each with its `.json` meta file). */
  removed: number;
  /** Bytes those blobs, their meta files and leftover temp files took. */
  freedBytes: number;
  /** Blobs left in place: referenced, or younger than the grace period. */
  kept: number;
  /** Why nothing was collected, when a document on disk could not be read; null otherwise. */
  skipped: string | null;
}

/** What the collector needs from the daemon. */
export interface BlobCollectorOptions {
  /** The blob store's directory, `<cache>/blobs`. */
  blobDir: string;
  /** Where rooms persist, `<cache>/notebook-docs` (one `<sha256>.automerge` per room). */
  documentsDir: string;
  /** The documents of the rooms loaded now: their latest state may not be saved yet. */
  loadedDocuments: () => Iterable<unknown>;
  logger: Logger;
  /** Temp files of stream outputs still being written (never removed, whatever their age). */
  tempFilesInUse?: () => ReadonlySet<string>;
  /** Blobs and temp files younger than this are kept (default `RUNTIMED_BLOB_GRACE_SECS`, else 600). */
  graceSecs?: number;
  /** Time between background runs (default `RUNTIMED_BLOB_GC_INTERVAL_SECS`, else 3600; 0: none). */
  intervalSecs?: number;
}

const DEFAULT_GRACE_SECS = 600;
/** The temp file of a stream output being written (see BlobStore.begin). */
const GROWING_FILE = /^\.growing\.\d+\.[0-9a-f]+\.tmp$/;
const DEFAULT_INTERVAL_SECS = 3600;
// The first run waits until the start's own burst (clients reconnecting, rooms loading) is over.
const FIRST_RUN_DELAY_MS = 5_000;
const DOCUMENT_SUFFIX = ".automerge";
const BLOB_NAME = /^[0-9a-f]{64}$/;

/**
 * Removes blobs that no notebook document refers to — neither a loaded room's nor any saved
 * one in `notebook-docs/` — once they are older than a grace period (a blob is written a moment
 * before the document that refers to it), and temp files a crash left behind. Runs in the
 * background at start and then periodically, and on demand (`collect`); one run at a time.
 * A document on disk that cannot be read might refer to anything, so its run removes nothing.
 * Documents are read one per event-loop turn, so a run never blocks the daemon for long.
 */
export class BlobCollector {
  private readonly graceSecs: number;
  private readonly intervalSecs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: BlobCollectorOptions) {
    this.graceSecs = options.graceSecs ?? secondsFromEnv("RUNTIMED_BLOB_GRACE_SECS", DEFAULT_GRACE_SECS);
    this.intervalSecs = options.intervalSecs ?? secondsFromEnv("RUNTIMED_BLOB_GC_INTERVAL_SECS", DEFAULT_INTERVAL_SECS);
  }

  /** Schedules the background runs: the first shortly after start, then every interval. */
  start(): void {
    if (this.intervalSecs <= 0 || this.stopped) return;
    const schedule = (delayMs: number) => {
      this.timer = setTimeout(() => {
        void this.collect().then(
          (report) => this.options.logger.info("blob collection", { ...report }),
          (error: unknown) => this.options.logger.error("blob collection failed", { error: (error as Error).message }),
        );
        if (!this.stopped) schedule(this.intervalSecs * 1000);
      }, delayMs);
      this.timer.unref();
    };
    schedule(Math.min(FIRST_RUN_DELAY_MS, this.intervalSecs * 1000));
  }

  /** Runs one collection (after any run in progress) with the configured or given grace period. */
  collect(graceSecs: number = this.graceSecs): Promise<CollectionReport> {
    const run = this.running.catch(() => undefined).then(() => this.run(Math.max(0, graceSecs) * 1000));
    this.running = run;
    return run;
  }

  /** Stops the background runs and waits for a run in progress, which ends at its next step. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => undefined);
  }

  private async run(graceMs: number): Promise<CollectionReport> {
    const report: CollectionReport = { removed: 0, freedBytes: 0, kept: 0, skipped: null };
    if (this.stopped) return { ...report, skipped: "the daemon is stopping" };
    // Rooms loaded now count as they are now and as they are after the scan: a room unloaded
    // meanwhile was saved with what it had, and one loaded meanwhile is read from disk or below.
    const referenced = this.loadedReferences(new Set());
    const unreadable = await this.addSavedReferences(referenced);
    if (unreadable) {
      this.options.logger.warn("blob collection skipped: a saved notebook could not be read, so its blobs cannot be told apart", unreadable);
      return { ...report, skipped: `${unreadable.file} could not be read (${unreadable.error}); move it out of ${this.options.documentsDir} to let blobs be collected` };
    }
    if (this.stopped) return { ...report, skipped: "the daemon is stopping" };
    this.loadedReferences(referenced);
    await this.sweep(referenced, Date.now() - graceMs, report);
    return report;
  }

  private loadedReferences(into: Set<string>): Set<string> {
    for (const doc of this.options.loadedDocuments()) notebookBlobHashes(doc, into);
    return into;
  }

  /** Adds the references of every saved document; the first one that cannot be read, if any. */
  private async addSavedReferences(into: Set<string>): Promise<{ file: string; error: string } | undefined> {
    const dir = this.options.documentsDir;
    for (const name of await listDir(dir)) {
      if (!name.endsWith(DOCUMENT_SUFFIX)) continue;
      if (this.stopped) return undefined;
      const file = path.join(dir, name);
      let bytes: Buffer;
      try {
        bytes = await fs.promises.readFile(file);
      } catch (error) {
        // Gone since the listing (a room moved a corrupt file aside): nothing of it to keep.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        return { file, error: (error as Error).message };
      }
      try {
        notebookBlobHashes(Automerge.load(bytes), into);
      } catch (error) {
        return { file, error: (error as Error).message };
      }
      await yieldToEventLoop();
    }
    return undefined;
  }

  /**
   * Removes unreferenced blobs and temp files older than `cutoffMs`, one fan-out directory per
   * event-loop turn. Each file is checked and removed in one synchronous step, so a blob the
   * daemon stores again meanwhile (which refreshes its mtime) is seen as young and kept.
   */
  private async sweep(referenced: Set<string>, cutoffMs: number, report: CollectionReport): Promise<void> {
    const root = this.options.blobDir;
    const inUse = this.options.tempFilesInUse?.() ?? new Set<string>();
    for (const shard of await listDir(root)) {
      if (this.stopped) return;
      // A growing stream's file, left by a daemon that died while its cell ran.
      if (GROWING_FILE.test(shard) && !inUse.has(path.join(root, shard))) removeIfOlder(path.join(root, shard), cutoffMs, report);
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const dir = path.join(root, shard);
      const names = await listDir(dir);
      const present = new Set(names);
      for (const name of names) {
        const file = path.join(dir, name);
        if (BLOB_NAME.test(name)) {
          if (referenced.has(name)) report.kept++;
          else if (removeIfOlder(file, cutoffMs, report)) {
            report.removed++;
            removeIfOlder(`${file}.json`, Infinity, report);
          } else report.kept++;
        } else if (name.endsWith(".json") && BLOB_NAME.test(name.slice(0, -5))) {
          // A meta file without its blob: the blob's write failed, or is about to happen.
          if (!present.has(name.slice(0, -5))) removeIfOlder(file, cutoffMs, report);
        } else if (isBlobTempFile(name)) {
          removeIfOlder(file, cutoffMs, report);
        }
      }
      await yieldToEventLoop();
    }
  }
}

/** Removes `file` if its mtime is before `cutoffMs`, counting its bytes; whether it did. */
function removeIfOlder(file: string, cutoffMs: number, report: CollectionReport): boolean {
  try {
    const stat = fs.statSync(file);
    if (stat.mtimeMs >= cutoffMs) return false;
    fs.unlinkSync(file);
    report.freedBytes += stat.size;
    return true;
  } catch {
    // Gone already, or not ours to remove: keep going.
    return false;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

function secondsFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}
