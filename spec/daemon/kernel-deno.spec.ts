import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { denoBinary, denoDir, denoKernelSpec } from "../../lib/daemon/kernel-deno";

const saved = { DENO_BIN: process.env.DENO_BIN, DENO_DIR: process.env.DENO_DIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-deno-"));
  delete process.env.DENO_BIN;
  delete process.env.DENO_DIR;
});

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the deno kernel's binary and cache", () => {
  it("finds the binary of the npm deno dependency, and it runs", () => {
    const binary = denoBinary();
    expect(binary).toMatch(/node_modules\/(@deno\/[^/]+|deno)\/deno$/);
    expect(execFileSync(binary, ["--version"], { encoding: "utf8" })).toMatch(/^deno 2\./);
  });

  it("DENO_BIN overrides the npm binary", () => {
    process.env.DENO_BIN = "/opt/custom/deno";
    expect(denoBinary()).toBe("/opt/custom/deno");
    expect(denoKernelSpec(denoBinary(), scratch).argv).toEqual(["/opt/custom/deno", "jupyter", "--kernel", "--conn", "{connection_file}"]);
  });

  it("keeps the user's DENO_DIR, else deno's default cache when writable, else one under the daemon cache dir", () => {
    process.env.DENO_DIR = path.join(scratch, "mine");
    expect(denoDir(scratch)).toBe(path.join(scratch, "mine"));

    delete process.env.DENO_DIR;
    process.env.XDG_CACHE_HOME = path.join(scratch, "xdg");
    expect(denoDir(scratch)).toBe(path.join(scratch, "xdg", "deno"));

    // A cache home that is a file cannot hold a directory: deno would fail to start there.
    const notADir = path.join(scratch, "not-a-dir");
    fs.writeFileSync(notADir, "");
    process.env.XDG_CACHE_HOME = notADir;
    expect(denoDir(path.join(scratch, "daemon-cache"))).toBe(path.join(scratch, "daemon-cache", "deno"));
  });

  it("interrupts with interrupt_request, since deno exits on SIGINT", () => {
    expect(denoKernelSpec("/usr/bin/deno", scratch)).toMatchObject({ name: "deno", language: "typescript", interruptMode: "message" });
  });
});
