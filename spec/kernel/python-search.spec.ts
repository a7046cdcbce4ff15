import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canImportIpykernel, findIpykernelPython, noIpykernelMessage, PYTHON_ENV_VAR, searchPython } from "../../lib/kernel/python-search";

/** Runs `body` with RUNTIMED_PYTHON set to `value` (or unset), restoring it afterwards. */
async function withSetting<T>(value: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = process.env[PYTHON_ENV_VAR];
  if (value === undefined) delete process.env[PYTHON_ENV_VAR];
  else process.env[PYTHON_ENV_VAR] = value;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[PYTHON_ENV_VAR];
    else process.env[PYTHON_ENV_VAR] = before;
  }
}

describe("searchPython", () => {
  let dir: string;
  let noIpykernel: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "runtimed-python-search-"));
    // An interpreter that runs but cannot import ipykernel.
    noIpykernel = join(dir, "python-without-ipykernel");
    writeFileSync(noIpykernel, '#!/bin/sh\nexec /usr/bin/python3 -S -c "import sys; sys.exit(1)"\n');
    chmodSync(noIpykernel, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds an interpreter that imports ipykernel by default, once per process", async () => {
    await withSetting(undefined, async () => {
      const python = await findIpykernelPython();
      expect(python).toBeDefined();
      expect(await canImportIpykernel(python!)).toBe(true);
      expect(await findIpykernelPython()).toBe(python);
      expect((await searchPython()).restricted).toBe(false);
    });
    expect(await canImportIpykernel(join(dir, "no-such-python"))).toBe(false);
  });

  it("tries only the interpreters RUNTIMED_PYTHON names, in order, paths or names on PATH", async () => {
    const search = await withSetting(`${join(dir, "missing")}:${noIpykernel}:/usr/bin/python3`, () => searchPython());
    expect(search).toEqual({
      tried: [join(dir, "missing"), noIpykernel, "/usr/bin/python3"],
      anyPython: noIpykernel,
      ipykernel: "/usr/bin/python3",
      restricted: true,
    });
    const byName = await withSetting("no-such-python-name-xyz", () => searchPython());
    expect(byName).toEqual({ tried: ["no-such-python-name-xyz"], restricted: true });
  });

  it("finds nothing when RUNTIMED_PYTHON is empty or names no interpreter with ipykernel, and says how to install it", async () => {
    const none = await withSetting("", () => searchPython());
    expect(none).toEqual({ tried: [], restricted: true });
    expect(noIpykernelMessage(none)).toBe(
      "No Python that can import ipykernel was found (RUNTIMED_PYTHON names none); install it with `apt-get install python3-ipykernel python3-venv` (Debian, Ubuntu) or `pip install ipykernel`",
    );
    const without = await withSetting(noIpykernel, () => searchPython());
    expect(without).toEqual({ tried: [noIpykernel], anyPython: noIpykernel, restricted: true });
    expect(noIpykernelMessage(without)).toContain(`(tried ${noIpykernel}, as RUNTIMED_PYTHON says)`);
    expect(noIpykernelMessage(without)).not.toContain("\n");
  });
});
