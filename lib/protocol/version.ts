/**
 * This package's version, as the daemon reports it: from package.json, which lib/protocol/ and
 * dist/protocol/ both sit two levels below (a bundler inlines it). A build copied elsewhere
 * reports 0.0.0 rather than failing to load.
 */
function readVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require("../../package.json") as { name?: string; version?: string };
    return pkg.name === "runtimed" && typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export const PACKAGE_VERSION: string = readVersion();
