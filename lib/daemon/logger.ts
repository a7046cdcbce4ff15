import * as fs from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where and how much the daemon logs. */
export interface LoggerOptions {
  /** Lowest level written (default `RUNTIMED_LOG`, else "info"). */
  level?: string;
  /** Size at which the log rotates (default `RUNTIMED_LOG_MAX_BYTES`, else 10 MiB). */
  maxBytes?: number;
  /** Rotated files kept beside it: `daemon.log.1` (newest) ... (default 3). */
  keep?: number;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_KEEP = 3;

/**
 * The daemon's log: lines appended to `daemon.log`, filtered by `RUNTIMED_LOG`. At its size cap
 * the file is renamed to `daemon.log.1` (older ones shift to `.2`, `.3`; the oldest is dropped)
 * and a new one begins. Writing never throws: a full disk must not take the daemon down.
 */
export class Logger {
  private readonly threshold: number;
  private readonly maxBytes: number;
  private readonly keep: number;
  private fd: number | undefined;
  private size = 0;
  private closed = false;

  constructor(
    private readonly file: string | undefined,
    options: LoggerOptions | string = {},
  ) {
    const { level, maxBytes, keep } = typeof options === "string" ? { level: options } : options;
    this.threshold = levels[(level ?? process.env.RUNTIMED_LOG ?? "info") as LogLevel] ?? levels.info;
    const envMax = Number(process.env.RUNTIMED_LOG_MAX_BYTES);
    this.maxBytes = maxBytes ?? (Number.isFinite(envMax) && envMax > 0 ? envMax : DEFAULT_MAX_BYTES);
    this.keep = Math.max(1, Math.floor(keep ?? DEFAULT_KEEP));
    if (file) this.open();
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write("debug", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write("info", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write("warn", message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write("error", message, fields);
  }

  close(): void {
    this.closed = true;
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      fs.closeSync(fd);
    } catch {
      // nothing left to do with it
    }
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (levels[level] < this.threshold || !this.file || this.closed) return;
    try {
      // A rotation that could not reopen the file (disk full, directory gone) is retried here.
      if (this.fd === undefined) this.open();
      const line = Buffer.from(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${formatFields(fields)}\n`);
      if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
      if (this.fd === undefined) return;
      fs.writeSync(this.fd, line);
      this.size += line.length;
    } catch {
      // A full disk must not take the daemon down with it.
    }
  }

  /** Shifts `daemon.log` to `.1` (and older ones on), then starts a new file. */
  private rotate(): void {
    const file = this.file!;
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) fs.closeSync(fd);
    try {
      for (let index = this.keep - 1; index >= 1; index--) renameIfExists(`${file}.${index}`, `${file}.${index + 1}`);
      renameIfExists(file, `${file}.1`);
    } finally {
      // Even when a rename failed, logging goes on (in the old file, which then grows on).
      this.open();
    }
  }

  private open(): void {
    const fd = fs.openSync(this.file!, "a", 0o600);
    this.size = fs.fstatSync(fd).size;
    this.fd = fd;
  }
}

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (!fields) return "";
  try {
    return " " + JSON.stringify(fields, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  } catch {
    return " " + String(Object.keys(fields));
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
