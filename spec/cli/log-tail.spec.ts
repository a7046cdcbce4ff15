import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { followFile } from "../../lib/cli/log-tail";
import { Logger } from "../../lib/daemon/logger";
import { waitFor } from "../wait-for";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-log-tail-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("followFile", () => {
  it("follows a log across rotations: the rest of the old file, then the new one, every line once and in order", async () => {
    const file = path.join(dir, "daemon.log");
    const logger = new Logger(file, { maxBytes: 400, keep: 2 });
    let seen = "";
    const follower = followFile(file, 0, (text) => (seen += text));
    try {
      for (let n = 0; n < 60; n++) {
        logger.info(`line ${n} ${"r".repeat(30)}`);
        // Several lines land between two polls, and so does a rotation (not two: the file between
        // two rotations would be gone before anyone could read it, as with `tail -F`).
        if (n % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await waitFor("the last line", () => seen.includes("line 59 "));
    } finally {
      follower.stop();
      logger.close();
    }
    expect(fs.existsSync(`${file}.1`)).toBe(true);
    const numbers = [...seen.matchAll(/line (\d+) /g)].map((match) => Number(match[1]));
    expect(numbers).toEqual([...Array(60).keys()]);
  });

  it("waits for a file that does not exist yet, and reads a truncated file again from its start", async () => {
    const file = path.join(dir, "later.log");
    let seen = "";
    const follower = followFile(file, 0, (text) => (seen += text));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      fs.writeFileSync(file, "first\n");
      await waitFor("the first line", () => seen === "first\n");
      fs.writeFileSync(file, "");
      await new Promise((resolve) => setTimeout(resolve, 300));
      fs.appendFileSync(file, "again\n");
      await waitFor("the line after truncation", () => seen === "first\nagain\n");
    } finally {
      follower.stop();
    }
  });
});
