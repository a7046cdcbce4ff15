import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "build-page.cjs");

/**
 * Builds the daemon's page into a new temp dir with scripts/build-page.cjs, in a child process:
 * esbuild's JS API keeps a service process for the life of whatever loaded it (one per jest
 * test file, since each file has its own module registry), which has no place in the jest
 * process. Resolves with the dir.
 */
export function buildPageDir(prefix: string): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SCRIPT, outDir], { timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`Building the page failed: ${stderr || error.message}`));
      else resolve(outDir);
    });
  });
}
