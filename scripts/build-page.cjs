// Builds the daemon's web page (lib/page/) into dist/page/: index.html and page.css as they
// are, and app.js bundled by esbuild with the same options as the `runtimed/browser` bundle.
// `node scripts/build-page.cjs [outDir]`; the browser specs call buildPage(tempDir).
const esbuild = require("esbuild");
const fs = require("node:fs");
const path = require("node:path");
const { browserOptions } = require("./build-browser.cjs");

const root = path.join(__dirname, "..");
const source = path.join(root, "lib", "page");
const STATIC_FILES = ["index.html", "page.css"];

/** Builds the page into `outDir` (default dist/page), replacing what was there. */
async function buildPage(outDir = path.join(root, "dist", "page")) {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  for (const file of STATIC_FILES) fs.copyFileSync(path.join(source, file), path.join(outDir, file));
  await esbuild.build({
    ...browserOptions("lib/page/app.ts", "dist/page/app.js"),
    outfile: path.join(outDir, "app.js"),
    minify: true,
  });
  return outDir;
}

module.exports = { buildPage };
if (require.main === module) {
  buildPage(process.argv[2] ? path.resolve(process.argv[2]) : undefined).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
