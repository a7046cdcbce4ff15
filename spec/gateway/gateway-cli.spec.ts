import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { daemonFiles, type DaemonInfo } from "../../lib/transport/paths";
import { Session } from "../../lib/session/session";
import { killDaemonOf, processAlive, runCli, waitUntil } from "../cli/cli-process";
import { startJupyterServer, type JupyterServer } from "./jupyter-server";

jest.setTimeout(180_000);

let server: JupyterServer;
beforeAll(async () => {
  server = await startJupyterServer();
});
afterAll(async () => {
  await server?.stop();
});

function tempCacheDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-gateway-cli-"));
}

describe("runtimed daemon with a gateway", () => {
  it("start --gateway-url --gateway-token: kernels run on the gateway, status shows it and whether it answers, never the token", async () => {
    const cacheDir = tempCacheDir();
    const at = ["--cache-dir", cacheDir];
    // The token must come from the flag, not from a variable of the test's own environment.
    const env = { JUPYTER_GATEWAY_URL: "", JUPYTER_GATEWAY_AUTH_TOKEN: "" };
    let session: Session | undefined;
    try {
      const start = await runCli(["daemon", "start", ...at, "--gateway-url", server.url, "--gateway-token", server.token], { env });
      expect(start).toMatchObject({ exitCode: 0 });
      expect(start.stdout).toContain(`gateway ${server.url} (answers; kernelspecs python3, default python3)`);
      const info = JSON.parse(fs.readFileSync(daemonFiles(cacheDir).info, "utf8")) as DaemonInfo;
      // The token travels in the daemon's environment, not on its command line, where `ps` shows it.
      expect(fs.readFileSync(`/proc/${info.pid}/cmdline`, "utf8")).not.toContain(server.token);

      const status = await runCli(["daemon", "status", ...at], { env });
      expect(status).toMatchObject({ exitCode: 0 });
      expect(status.stdout).toContain(`  gateway   ${server.url} (answers; kernelspecs python3, default python3)\n`);
      const json = await runCli(["daemon", "status", "--json", ...at], { env });
      expect(JSON.parse(json.stdout)).toMatchObject({
        gateway: { url: server.url, reachable: true, defaultKernelspec: "python3", kernelspecs: ["python3"], error: null },
      });
      for (const output of [start, status, json]) expect(output.stdout + output.stderr).not.toContain(server.token);

      session = new Session({ socketPath: info.endpoint, cacheDir, autoStart: false, notebookId: "cli-gateway" });
      const parent = await session.run("import os\nprint(os.getppid())");
      expect(parent.stdout.trim()).toBe(String(server.pid));
      expect(session.envSource).toBe("gateway:python3");

      const again = await runCli(["daemon", "start", ...at, "--gateway-url", "http://127.0.0.1:9"], { env });
      expect(again).toMatchObject({ exitCode: 0 });
      expect(again.stdout).toContain(`already running (pid ${info.pid})`);
      expect(again.stderr).toContain(`it uses the gateway ${server.url}, not http://127.0.0.1:9; stop it first`);

      await session.close();
      session = undefined;
      const stop = await runCli(["daemon", "stop", ...at], { env });
      expect(stop).toMatchObject({ exitCode: 0 });
      await waitUntil(() => !processAlive(info.pid), 30_000);
    } finally {
      await session?.close().catch(() => undefined);
      await killDaemonOf(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("status says when the gateway does not answer, and a daemon without one says kernels run on this machine", async () => {
    const cacheDir = tempCacheDir();
    const at = ["--cache-dir", cacheDir];
    try {
      const env = { JUPYTER_GATEWAY_URL: "http://127.0.0.1:9", JUPYTER_GATEWAY_AUTH_TOKEN: "" };
      expect(await runCli(["daemon", "start", ...at], { env })).toMatchObject({ exitCode: 0 });
      const status = await runCli(["daemon", "status", ...at], { env });
      expect(status.stdout).toContain("  gateway   http://127.0.0.1:9 (not answering: The gateway at http://127.0.0.1:9 is unreachable (connect ECONNREFUSED");
      expect(await runCli(["daemon", "stop", ...at], { env })).toMatchObject({ exitCode: 0 });

      const none = { JUPYTER_GATEWAY_URL: "" };
      expect(await runCli(["daemon", "start", ...at], { env: none })).toMatchObject({ exitCode: 0 });
      expect((await runCli(["daemon", "status", ...at], { env: none })).stdout).toContain("  gateway   none (kernels run on this machine)\n");
      expect(await runCli(["daemon", "stop", ...at], { env: none })).toMatchObject({ exitCode: 0 });
    } finally {
      await killDaemonOf(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("a malformed gateway URL or header is refused before any daemon starts", async () => {
    const cacheDir = tempCacheDir();
    try {
      const url = await runCli(["daemon", "start", "--cache-dir", cacheDir, "--gateway-url", "gateway.example.com:8888"]);
      expect(url).toMatchObject({ exitCode: 1 });
      expect(url.stderr).toContain('The gateway URL "gateway.example.com:8888" must start with http:// or https://');
      const headers = await runCli(["daemon", "start", "--cache-dir", cacheDir], {
        env: { JUPYTER_GATEWAY_URL: "http://127.0.0.1:9", JUPYTER_GATEWAY_HEADERS: "not json" },
      });
      expect(headers).toMatchObject({ exitCode: 1 });
      expect(headers.stderr).toContain("JUPYTER_GATEWAY_HEADERS is not JSON");
      expect(fs.existsSync(daemonFiles(cacheDir).info)).toBe(false);
    } finally {
      await killDaemonOf(cacheDir);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
