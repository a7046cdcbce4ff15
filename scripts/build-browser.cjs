// Bundles lib/browser.ts into dist/browser.mjs: `runtimed/browser`, ESM for web pages. esbuild
// refuses to bundle any Node built-in, which keeps the client side free of them. Automerge's
// "webpack" entry embeds its wasm as base64, so no loader is needed.
const esbuild = require("esbuild");
const path = require("node:path");

const root = path.join(__dirname, "..");

/** Options shared by the package's browser bundle and the daemon's page (scripts/build-page.cjs). */
function browserOptions(entry, outfile) {
  return {
    entryPoints: [path.join(root, entry)],
    outfile: path.join(root, outfile),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["webpack"],
    sourcemap: true,
    logLevel: "warning",
  };
}

async function main() {
  await esbuild.build(browserOptions("lib/browser.ts", "dist/browser.mjs"));
}

module.exports = { browserOptions };
if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
