/**
 * This package's version, as the daemon reports it. Read from package.json at build time by a
 * bundler, or at run time by Node: lib/protocol/ and dist/protocol/ both sit two levels below it.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require("../../package.json") as { version?: string };

export const PACKAGE_VERSION: string = pkg.version ?? "0.0.0";
