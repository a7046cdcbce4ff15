import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BlobSink, BlobSource } from "../outputs/manifest";
import { RuntimedError } from "../protocol/errors";
import { blobFilePath } from "../transport/paths";

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]+\.tmp$/;
const FALLBACK_MEDIA_TYPE = "application/octet-stream";
// A media type is sent back as a Content-Type header, so only token characters (RFC 9110) and
// simple parameters get in: nothing that could end a header line or smuggle another one.
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;
const MAX_MEDIA_TYPE_LENGTH = 255;

/** What the store knows of one blob besides its bytes. */
export interface BlobInfo {
  hash: string;
  size: number;
  mediaType: string;
}

/** An open blob to stream from: its info and a read stream the caller consumes or destroys. */
export interface OpenBlob extends BlobInfo {
  stream: fs.ReadStream;
}

/**
 * The daemon's content-addressed blob store (DESIGN.md "Notebook document"): output payloads of
 * 8 KiB or more, kept under `<cache>/blobs/<first two hex digits>/<sha256 hex>` with the media
 * type beside them in `<sha256 hex>.json`. Writes are atomic (temp file, then rename), so a blob
 * that exists is whole. Bytes decide the hash; the first media type stored for them stays.
 */
export class BlobStore implements BlobSink {
  /** Temp files of blobs being written in pieces: never collected while listed here. */
  private readonly growing = new Set<string>();

  /** Opens (creating, mode 0700) the store rooted at `directory`, usually `<cache>/blobs`. */
  constructor(readonly directory: string) {
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  }

  /**
   * Starts a blob written in pieces (a growing stream output): appended to a temp file and
   * hashed as it goes, so that storing it at the end neither copies nor re-reads it.
   */
  begin(mediaType: string): BlobWriter {
    const temp = path.join(this.directory, `.growing.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    this.growing.add(temp);
    return new BlobWriter(
      temp,
      (bytes, hash) => this.adopt(temp, hash, mediaType, bytes),
      () => this.growing.delete(temp),
      (hash, from, to) => this.readRange(hash, from, to),
    );
  }

  /** Bytes [from, to) of a stored blob. */
  readRange(hash: string, from: number, to: number): Buffer {
    const fd = fs.openSync(this.blobPath(checkHash(hash)), "r");
    try {
      return readAt(fd, from, to);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Temp files of blobs still being written. */
  get tempFilesInUse(): ReadonlySet<string> {
    return this.growing;
  }

  /** Moves a finished temp file into place as blob `hash`. */
  private adopt(temp: string, hash: string, mediaType: string, size: number): void {
    const file = this.blobPath(hash);
    try {
      if (fs.existsSync(file)) {
        fs.rmSync(temp, { force: true });
        return;
      }
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeAtomically(this.metaPath(hash), JSON.stringify({ media_type: safeMediaType(mediaType), size }) + "\n");
      fs.renameSync(temp, file);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw storageFailed(`store blob ${hash}`, error);
    } finally {
      this.growing.delete(temp);
    }
  }

  /**
   * Stores `bytes` (synchronously, idempotently) and returns their sha256 hex. A write the disk
   * refuses (full, read-only, I/O error) throws a STORAGE_FAILED RuntimedError and leaves no
   * partial file behind.
   */
  put(bytes: Uint8Array, mediaType: string): string {
    const hash = createHash("sha256").update(bytes).digest("hex");
    const file = this.blobPath(hash);
    // A blob stored again is in use again: a fresh mtime keeps the collector's grace period
    // over it, however old the file, until the document that now refers to it is saved.
    if (touch(file)) return hash;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw storageFailed(`create the blob directory ${path.dirname(file)}`, error);
    }
    // The media type goes first: a blob file never exists without it.
    const meta = { media_type: safeMediaType(mediaType), size: bytes.byteLength };
    writeAtomically(this.metaPath(hash), JSON.stringify(meta) + "\n");
    writeAtomically(file, bytes);
    return hash;
  }

  /** The bytes of a blob, or undefined when the store does not have it. */
  get(hash: string): Buffer | undefined {
    return ifExists(() => fs.readFileSync(this.blobPath(checkHash(hash))));
  }

  /** The bytes of a blob the store must have; a missing one is a PROTOCOL error naming it. */
  read(hash: string): Buffer {
    const bytes = this.get(hash);
    if (!bytes) throw new RuntimedError("PROTOCOL", `Blob ${hash} is not in the blob store at ${this.directory}`);
    return bytes;
  }

  /** This store as a `BlobSource`, for `fromManifest` in the daemon. */
  asSource(): BlobSource {
    return { get: (hash) => this.read(hash) };
  }

  /** Whether the store has the blob. */
  has(hash: string): boolean {
    return fs.existsSync(this.blobPath(checkHash(hash)));
  }

  /** The blob's size in bytes, or undefined when the store does not have it. */
  size(hash: string): number | undefined {
    return ifExists(() => fs.statSync(this.blobPath(checkHash(hash))).size);
  }

  /** The media type the blob was stored with, or undefined when the store does not have it. */
  mediaType(hash: string): string | undefined {
    if (!this.has(hash)) return undefined;
    return this.readMediaType(hash);
  }

  /**
   * Opens a blob for streaming (so large blobs never block the daemon), or undefined when the
   * store does not have it. The file is opened before this returns, so a later removal cannot
   * turn a found blob into a failed response.
   */
  open(hash: string): OpenBlob | undefined {
    const file = this.blobPath(checkHash(hash));
    const fd = ifExists(() => fs.openSync(file, "r"));
    if (fd === undefined) return undefined;
    try {
      const size = fs.fstatSync(fd).size;
      return { hash, size, mediaType: this.readMediaType(hash), stream: fs.createReadStream(file, { fd }) };
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  private readMediaType(hash: string): string {
    try {
      const meta = JSON.parse(fs.readFileSync(this.metaPath(hash), "utf8")) as { media_type?: unknown };
      return typeof meta.media_type === "string" ? safeMediaType(meta.media_type) : FALLBACK_MEDIA_TYPE;
    } catch {
      // A blob whose meta file was lost is still its bytes; serve them as opaque.
      return FALLBACK_MEDIA_TYPE;
    }
  }

  private blobPath(hash: string): string {
    return blobFilePath(this.directory, hash);
  }

  private metaPath(hash: string): string {
    return `${this.blobPath(hash)}.json`;
  }
}

/** A blob being written in pieces; see {@link BlobStore.begin}. */
export class BlobWriter {
  private readonly fd: number;
  private readonly hash = createHash("sha256");
  private written = 0;
  private done = false;
  private finishedAs: string | undefined;

  constructor(
    readonly tempFile: string,
    private readonly adopt: (bytes: number, hash: string) => void,
    private readonly forget: () => void,
    private readonly readStored: (hash: string, from: number, to: number) => Buffer,
  ) {
    try {
      this.fd = fs.openSync(tempFile, "wx+", 0o600);
    } catch (error) {
      forget();
      throw storageFailed(`create ${tempFile}`, error);
    }
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.written;
  }

  /** Appends bytes; throws (disk full, ...) with the file left for `abort()`. */
  append(bytes: Uint8Array): void {
    try {
      for (let at = 0; at < bytes.byteLength; ) at += fs.writeSync(this.fd, bytes, at, bytes.byteLength - at);
    } catch (error) {
      throw storageFailed(`write ${this.tempFile}`, error);
    }
    this.hash.update(bytes);
    this.written += bytes.byteLength;
  }

  /** Bytes [from, to) written so far (default: all), from the blob once it is finished. */
  read(from = 0, to = this.written): Buffer {
    if (this.finishedAs !== undefined) return this.readStored(this.finishedAs, from, to);
    return readAt(this.fd, from, Math.min(to, this.written));
  }

  /** Closes the file and stores it as a blob; returns its hash. */
  finish(): string {
    this.close();
    const hash = this.hash.digest("hex");
    this.adopt(this.written, hash);
    this.finishedAs = hash;
    return hash;
  }

  /** Closes and removes the temp file. */
  abort(): void {
    this.close();
    fs.rmSync(this.tempFile, { force: true });
    this.forget();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    fs.closeSync(this.fd);
  }
}

/** Bytes [from, to) of an open file. */
function readAt(fd: number, from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, to - from));
  let at = 0;
  while (at < out.byteLength) {
    const read = fs.readSync(fd, out, at, out.byteLength - at, from + at);
    if (read === 0) break;
    at += read;
  }
  return at === out.byteLength ? out : out.subarray(0, at);
}

/** Whether `hash` has the form of a blob hash (64 lowercase hex digits). */
export function isBlobHash(hash: unknown): hash is string {
  return typeof hash === "string" && SHA256_HEX.test(hash);
}

function checkHash(hash: string): string {
  if (!isBlobHash(hash)) {
    throw new RuntimedError("BAD_REQUEST", `Not a blob hash: ${JSON.stringify(String(hash).slice(0, 80))} (expected 64 lowercase hex digits of a sha256)`);
  }
  return hash;
}

function safeMediaType(mediaType: string): string {
  return mediaType.length <= MAX_MEDIA_TYPE_LENGTH && MEDIA_TYPE.test(mediaType) ? mediaType : FALLBACK_MEDIA_TYPE;
}

/** Whether `name` is one of the store's temp files (`.<name>.<pid>.<random hex>.tmp`). */
export function isBlobTempFile(name: string): boolean {
  return TEMP_FILE.test(name);
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    fs.writeFileSync(temp, data, { mode: 0o600, flag: "wx" });
    fs.renameSync(temp, file);
  } catch (error) {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // the collector removes temp files left behind
    }
    throw storageFailed(`write blob file ${file}`, error);
  }
}

function storageFailed(what: string, error: unknown): RuntimedError {
  const code = (error as NodeJS.ErrnoException).code;
  const hint = code === "ENOSPC" || code === "EDQUOT" ? " (the disk is full: free some space)" : "";
  return new RuntimedError("STORAGE_FAILED", `Could not ${what}: ${(error as Error).message}${hint}`, { cause: error });
}

/** Sets a file's times to now; false when it does not exist. */
function touch(file: string): boolean {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
    return true;
  } catch {
    // Missing (or not ours to touch): write it, which also says what is wrong if anything is.
    return false;
  }
}

function ifExists<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
