import { readFileSync } from "node:fs";
import * as path from "node:path";

function readVersion(): string {
  // lib/protocol/version.ts and dist/protocol/version.js both sit two levels below package.json.
  for (const candidate of [path.join(__dirname, "..", "..", "package.json"), path.join(__dirname, "..", "..", "..", "package.json")]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "runtimed" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}

/** This package's version, as the daemon reports it. */
export const PACKAGE_VERSION = readVersion();
