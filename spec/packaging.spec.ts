import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

jest.setTimeout(180_000);

const root = path.join(__dirname, "..");
// Inside the repository, so the packed package resolves its dependencies from our node_modules.
const scratch = path.join(root, ".pack-test");

interface PackResult {
  filename: string;
  files: { path: string }[];
}

let packed: PackResult;

beforeAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  // `npm pack` runs prepack (the build), exactly as publishing would.
  const output = execFileSync("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  packed = (JSON.parse(output.slice(output.indexOf("["))) as PackResult[])[0]!;
  const installed = path.join(scratch, "node_modules", "runtimed");
  fs.mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", path.join(scratch, packed.filename), "-C", installed, "--strip-components=1"]);
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the published package", () => {
  it("contains only what users need", () => {
    const files = packed.files.map((file) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "dist/index.js",
        "dist/index.mjs",
        "dist/index.d.ts",
        "dist/cli/main.js",
        "dist/daemon/main.js",
        "dist/browser.mjs",
        "dist/browser.d.ts",
        "dist/page/index.html",
        "dist/page/app.js",
        "dist/page/page.css",
      ]),
    );
    // The page is the bundle alone: no compiled module of lib/page besides it.
    expect(files.filter((file) => file.startsWith("dist/page/")).sort()).toEqual(["dist/page/app.js", "dist/page/app.js.map", "dist/page/index.html", "dist/page/page.css"]);
    const unexpected = files.filter((file) => !file.startsWith("dist/") && !["package.json", "README.md", "LICENSE"].includes(file));
    expect(unexpected).toEqual([]);
    expect(files.some((file) => file.startsWith("dist/spec") || file.endsWith(".ts") && !file.endsWith(".d.ts"))).toBe(false);
  });

  it("loads with require and with import, and both give the same classes", () => {
    const script = [
      "const cjs = require('runtimed');",
      "import('runtimed').then((esm) => {",
      "  const same = esm.Session === cjs.Session && esm.RuntimedError === cjs.RuntimedError;",
      "  console.log(JSON.stringify({ session: typeof cjs.Session, same, daemonClient: typeof esm.DaemonClient, operators: typeof esm.stdout }));",
      "});",
    ].join("\n");
    const output = execFileSync(process.execPath, ["-e", script], { cwd: scratch, encoding: "utf8" });
    expect(JSON.parse(output)).toEqual({ session: "function", same: true, daemonClient: "function", operators: "function" });
  });

  it("a client that imports Session loads neither ZeroMQ nor the daemon nor the Deno binary", () => {
    const script = [
      "const { Session } = require('runtimed');",
      "const session = new Session({ notebookId: 'entry-check', autoStart: false });",
      "const loaded = Object.keys(require.cache);",
      "const has = (part) => loaded.some((file) => file.includes(part));",
      "console.log(JSON.stringify({ session: typeof session.createCell, zeromq: has('/zeromq/'), daemon: has('/dist/daemon/'), deno: has('/@deno/') || has('/node_modules/deno/'), kernel: has('/dist/kernel/') }));",
    ].join("\n");
    const output = execFileSync(process.execPath, ["-e", script], { cwd: scratch, encoding: "utf8" });
    expect(JSON.parse(output)).toEqual({ session: "function", zeromq: false, daemon: false, deno: false, kernel: false });
  });

  it("exports runtimed/browser: an ESM bundle with the same Session API", () => {
    const script = "import('runtimed/browser').then((browser) => console.log(JSON.stringify({ session: typeof browser.Session, pageUrl: typeof browser.pageUrl, stdout: typeof browser.stdout })));";
    const output = execFileSync(process.execPath, ["-e", script], { cwd: scratch, encoding: "utf8" });
    expect(JSON.parse(output)).toEqual({ session: "function", pageUrl: "function", stdout: "function" });
  });

  it("declares types, engines and a working bin", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(scratch, "node_modules", "runtimed", "package.json"), "utf8")) as {
      exports: Record<string, unknown>;
      engines: { node: string };
      bin: Record<string, string>;
    };
    expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", import: "./dist/index.mjs", require: "./dist/index.js" });
    expect(manifest.exports["./browser"]).toEqual({ types: "./dist/browser.d.ts", import: "./dist/browser.mjs" });
    expect(manifest.engines.node).toMatch(/>=\s*20/);
    const bin = path.join(scratch, "node_modules", "runtimed", manifest.bin.runtimed!);
    expect(execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" }).trim()).toMatch(/\d+\.\d+\.\d+/);
  });
});
