import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Logger } from "../../lib/daemon/logger";

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-logger-"));
  file = path.join(dir, "daemon.log");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
const lineNumbers = (text: string) => [...text.matchAll(/line (\d+) /g)].map((match) => Number(match[1]));

describe("Logger", () => {
  it("rotates at its size cap: daemon.log.1 is the newest old file, at most `keep` are kept, no line is split or lost in between", () => {
    const logger = new Logger(file, { maxBytes: 1000, keep: 3 });
    for (let n = 0; n < 200; n++) logger.info(`line ${n} ${"x".repeat(40)}`);
    logger.close();
    expect(fs.readdirSync(dir).sort()).toEqual(["daemon.log", "daemon.log.1", "daemon.log.2", "daemon.log.3"]);
    for (const name of ["daemon.log", "daemon.log.1", "daemon.log.2", "daemon.log.3"]) {
      expect(fs.statSync(path.join(dir, name)).size).toBeLessThanOrEqual(1000);
      expect(read(name).endsWith("\n")).toBe(true);
      expect(fs.statSync(path.join(dir, name)).mode & 0o077).toBe(0);
    }
    // Oldest to newest, the files hold consecutive lines ending with the last one written.
    const kept = ["daemon.log.3", "daemon.log.2", "daemon.log.1", "daemon.log"].flatMap((name) => lineNumbers(read(name)));
    expect(kept.at(-1)).toBe(199);
    expect(kept).toEqual(kept.map((_, index) => kept[0]! + index));
  });

  it("continues the size count of an existing file when a daemon restarts", () => {
    fs.writeFileSync(file, "y".repeat(950) + "\n");
    const logger = new Logger(file, { maxBytes: 1000 });
    logger.info("line 0 pushes the file over its cap");
    logger.close();
    expect(read("daemon.log.1")).toBe("y".repeat(950) + "\n");
    expect(read("daemon.log")).toMatch(/INFO line 0 pushes/);
  });

  it("takes its cap from RUNTIMED_LOG_MAX_BYTES when no option is given", () => {
    const saved = process.env.RUNTIMED_LOG_MAX_BYTES;
    process.env.RUNTIMED_LOG_MAX_BYTES = "300";
    try {
      const logger = new Logger(file);
      for (let n = 0; n < 10; n++) logger.info(`line ${n} ${"z".repeat(60)}`);
      logger.close();
    } finally {
      if (saved === undefined) delete process.env.RUNTIMED_LOG_MAX_BYTES;
      else process.env.RUNTIMED_LOG_MAX_BYTES = saved;
    }
    expect(fs.existsSync(path.join(dir, "daemon.log.1"))).toBe(true);
    expect(fs.statSync(file).size).toBeLessThanOrEqual(300);
  });

  it("never throws: not for fields JSON cannot encode, not after close, not when its directory is gone", () => {
    const logger = new Logger(file, { maxBytes: 200 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => logger.warn("odd fields", { circular, big: BigInt(7) })).not.toThrow();
    expect(read("daemon.log")).toMatch(/WARN odd fields/);
    fs.rmSync(dir, { recursive: true, force: true });
    // The next write must rotate, and the directory to rotate in is gone.
    expect(() => {
      for (let n = 0; n < 20; n++) logger.error(`line ${n} after the directory went away`);
    }).not.toThrow();
    logger.close();
    expect(() => logger.info("after close")).not.toThrow();
    expect(() => logger.close()).not.toThrow();
  });
});
