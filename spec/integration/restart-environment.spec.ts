import * as fs from "node:fs";
import * as path from "node:path";
import { waitFor } from "../wait-for";
import { useTestDaemon } from "./harness";

jest.setTimeout(180_000);

const testDaemon = useTestDaemon();

describe("restartKernel keeps the room's environment", () => {
  it("the restarted kernel runs the same interpreter in the same environment, which is removed only when the kernel is shut down", async () => {
    const room = testDaemon();
    const session = room.session({ notebookId: "restart-keeps-env" });
    const before = await session.run("import sys\nprint(sys.executable)\nprint(sys.prefix)");
    const [executable, prefix] = before.stdout.trim().split("\n");
    const envSource = session.envSource;
    // A prewarmed environment the room took from the pool: it lives in the daemon's cache.
    expect(envSource).toMatch(/:prewarmed$/);
    expect(path.resolve(prefix!).startsWith(path.join(room.cacheDir, "envs") + path.sep)).toBe(true);
    // Something only this environment has: a file in its own directory.
    await session.run("import os, sys\nopen(os.path.join(sys.prefix, 'written-before-restart'), 'w').write('kept')");

    await session.restartKernel();
    expect(session.envSource).toBe(envSource);
    const after = await session.run(
      "import os, sys\nprint(sys.executable)\nprint(sys.prefix)\nprint(open(os.path.join(sys.prefix, 'written-before-restart')).read())",
    );
    expect(after.executionCount).toBe(1);
    expect(after.stdout).toBe(`${executable}\n${prefix}\nkept\n`);

    // The environment still belongs to the room until its kernel is gone for good.
    await session.shutdownKernel();
    await waitFor("the room's environment to be removed", () => !fs.existsSync(prefix!), 30_000);
  });
});
