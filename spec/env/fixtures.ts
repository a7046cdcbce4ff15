import { execFileSync } from "node:child_process";
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A temp directory tree for one test, with helpers to write files into it. */
export class Fixture {
  readonly root = mkdtempSync(join(tmpdir(), "runtimed-env-spec-"));

  /** Writes `text` at `relative` (creating parents) and returns the absolute path. */
  write(relative: string, text = ""): string {
    const path = join(this.root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  /** Creates the directory `relative` and returns its absolute path. */
  dir(relative: string): string {
    const path = join(this.root, relative);
    mkdirSync(path, { recursive: true });
    return path;
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Pids of live processes whose command line mentions `needle` (Linux /proc), excluding zombies. */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      if (cmdline.includes(needle) && state !== "Z") pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** Whether an executable called `name` is on PATH, decided synchronously (to name tests). */
export function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return dir !== "";
    } catch {
      return false;
    }
  });
}

/** Writes an executable shell script standing in for an installer, which logs its argv. */
export function fakeTool(fixture: Fixture, name: string, body: string): { path: string; log: string } {
  const log = fixture.path(`${name}.log`);
  const path = fixture.write(`bin/${name}`, `#!/bin/sh\necho "$@" >> '${log}'\n${body}\n`);
  chmodSync(path, 0o755);
  return { path, log };
}

/**
 * Writes a minimal pure-Python wheel for package `name` into `dir` and returns its path, so that
 * a dependency can be installed with no package index at all (pip installs it by file URL).
 * Importing the package gives `GREETING = "hello from <name>"`.
 */
export function buildWheel(dir: string, name: string, version = "1.0"): string {
  const script = `
import base64, hashlib, sys, zipfile
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": f"GREETING = 'hello from {name}'\\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: runtimed-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
for path, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(text.encode())}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = "\\n".join(record) + "\\n"
with zipfile.ZipFile(out, "w") as wheel:
    for path, text in files.items():
        wheel.writestr(path, text)
`;
  const wheel = join(dir, `${name}-${version}-py3-none-any.whl`);
  execFileSync("/usr/bin/python3", ["-c", script, name, version, wheel]);
  return wheel;
}
