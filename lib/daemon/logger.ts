import * as fs from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The daemon's log: lines appended to `daemon.log`, filtered by `RUNTIMED_LOG`. */
export class Logger {
  private readonly threshold: number;
  private fd: number | undefined;

  constructor(
    file: string | undefined,
    level: string = process.env.RUNTIMED_LOG ?? "info",
  ) {
    this.threshold = levels[level as LogLevel] ?? levels.info;
    if (file) this.fd = fs.openSync(file, "a", 0o600);
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
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (levels[level] < this.threshold || this.fd === undefined) return;
    const extra = fields ? " " + JSON.stringify(fields) : "";
    try {
      fs.writeSync(this.fd, `${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra}\n`);
    } catch {
      // A full disk must not take the daemon down with it.
    }
  }
}
