import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Daemon } from "../../lib/daemon/daemon";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { killEverythingMentioning, makeTempDir, readDaemonInfo } from "./processes";

jest.setTimeout(90_000);

let parentDir: string;
let room: TestRoom;

beforeAll(async () => {
  parentDir = makeTempDir("perms");
  // A cache dir that exists with loose permissions must be tightened, not trusted.
  const cacheDir = path.join(parentDir, "cache");
  fs.mkdirSync(cacheDir, { mode: 0o755 });
  fs.chmodSync(cacheDir, 0o755);
  // So must a daemon.json left behind readable by everyone: the new one holds a token.
  fs.writeFileSync(path.join(cacheDir, "daemon.json"), "{}\n", { mode: 0o644 });
  fs.chmodSync(path.join(cacheDir, "daemon.json"), 0o644);
  room = await startTestDaemon({ cacheDir });
});

afterAll(async () => {
  await room?.dispose();
  if (parentDir) {
    killEverythingMentioning(parentDir);
    removeDir(parentDir);
  }
});

const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** GET with the request target sent exactly as given (no client-side normalisation), with the daemon's token. */
function rawGet(host: string, port: number, target: string, token = readDaemonInfo(room.cacheDir).token): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `token ${token}` };
    const request = http.request({ host, port, path: target, method: "GET", headers, agent: false, timeout: 5000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${target} timed out`)));
    request.on("error", reject);
    request.end();
  });
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => done(false), 3000);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function nonLoopbackAddress(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) if (!address.internal && address.family === "IPv4") return address.address;
  }
  return undefined;
}

function blobHashes(blobDir: string): string[] {
  return fs.readdirSync(blobDir).flatMap((prefix) => fs.readdirSync(path.join(blobDir, prefix)).filter((name) => /^[0-9a-f]{64}$/.test(name)));
}

describe("permissions and exposure", () => {
  it("the cache dir is 0700 (even when it existed as 0755), the socket 0600, and kernel connection files 0600", async () => {
    expect(mode(room.cacheDir)).toBe(0o700);
    expect(mode(room.socketPath)).toBe(0o600);
    for (const dir of ["notebook-docs", "kernels", "blobs", "envs"]) expect(mode(path.join(room.cacheDir, dir))).toBe(0o700);
    const session = room.session({ notebookId: "perms-kernel" });
    await session.startKernel();
    const files = fs.readdirSync(path.join(room.cacheDir, "kernels")).filter((name) => name.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) expect([name, mode(path.join(room.cacheDir, "kernels", name))]).toEqual([name, 0o600]);
    for (const file of ["daemon.json", "daemon.lock", "daemon.log"]) expect([file, mode(path.join(room.cacheDir, file)) & 0o077]).toEqual([file, 0]);
    const result = await session.run("print('b' * 20000)", { timeoutSecs: 60 });
    expect(result.success).toBe(true);
    await session.flush();
    for (const name of fs.readdirSync(path.join(room.cacheDir, "notebook-docs"))) expect(mode(path.join(room.cacheDir, "notebook-docs", name)) & 0o077).toBe(0);
  });

  it("daemon.json holds the network face's token and url, and is 0600 even where an old one was 0644", () => {
    const info = readDaemonInfo(room.cacheDir);
    expect(mode(path.join(room.cacheDir, "daemon.json"))).toBe(0o600);
    expect(info.token).toMatch(/^[0-9a-f]{64}$/);
    expect(info).toMatchObject({ host: "127.0.0.1", url: `http://127.0.0.1:${info.port}/` });
  });

  it("the network face serves a blob on 127.0.0.1 to the token's holder and answers 404 to everything else, path traversal included", async () => {
    const port = readDaemonInfo(room.cacheDir).port;
    expect(typeof port).toBe("number");
    const hashes = blobHashes(path.join(room.cacheDir, "blobs"));
    expect(hashes.length).toBeGreaterThan(0);
    const blob = await rawGet("127.0.0.1", port!, `/blob/${hashes[0]}`);
    expect(blob.status).toBe(200);
    expect(blob.body.length).toBeGreaterThan(8 * 1024);
    const refused = await rawGet("127.0.0.1", port!, `/blob/${hashes[0]}`, "0".repeat(64));
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 401, body: "401 Unauthorized" });

    const secret = fs.readFileSync(path.join(room.cacheDir, "daemon.json"), "utf8");
    // "/" is the web page when it is built (npm run build), else 404: never the daemon's files.
    const root = await rawGet("127.0.0.1", port!, "/");
    expect([200, 404]).toContain(root.status);
    expect(root.body).not.toContain(secret.slice(0, 40));
    const attempts = [
      "/no-such-page",
      "/daemon.json",
      "/blob/",
      "/blob/../daemon.json",
      "/blob/../../daemon.json",
      "/blob/..%2fdaemon.json",
      "/blob/%2e%2e/%2e%2e/daemon.json",
      "/blob/%2e%2e%2f%2e%2e%2fdaemon.json",
      `/blob/${hashes[0]}/../../daemon.json`,
      `/blob/${hashes[0]!.slice(0, 2)}/${hashes[0]}`,
      `/blob/${hashes[0]!.toUpperCase()}`,
      `/blobs/${hashes[0]}`,
      `//blob/${hashes[0]}`,
      `/blob/${"0".repeat(64)}`,
      "/blob/../../../../../../etc/passwd",
      "/..%2f..%2f..%2fetc%2fpasswd",
      "/blob/%00",
      `/blob/${hashes[0]}%00.json`,
      `/blob/${hashes[0]}/`,
    ];
    for (const target of attempts) {
      const response = await rawGet("127.0.0.1", port!, target);
      expect([target, response.status]).toEqual([target, 404]);
      expect(response.body).not.toContain(secret.slice(0, 40));
      expect(response.body).not.toContain("root:");
    }
  });

  const external = nonLoopbackAddress();
  const externalName = external
    ? `the network face refuses connections on this machine's non-loopback address ${external}`
    : "the network face's non-loopback check is skipped: this machine has no non-loopback IPv4 address";
  it(externalName, async () => {
    const port = readDaemonInfo(room.cacheDir).port;
    expect(await accepts("127.0.0.1", port)).toBe(true);
    if (!external) {
      expect(nonLoopbackAddress()).toBeUndefined();
      return;
    }
    expect(await accepts(external, port)).toBe(false);
  });

  it("a daemon whose listen fails leaves the process-wide umask as it was, and the cache dir free for the next daemon", async () => {
    const cacheDir = path.join(parentDir, "listen-fails");
    // A socket path in a directory that does not exist: listen() itself fails.
    const socketPath = path.join(parentDir, "no-such-dir", "runtimed.sock");
    const before = process.umask(0o022);
    try {
      await expect(Daemon.start({ cacheDir, socketPath })).rejects.toThrow(/listen E[A-Z]+/);
      const after = process.umask(0o022);
      expect(after.toString(8)).toBe("22");
      // Files made after the failure get the usual permissions, not 0600.
      const probe = path.join(parentDir, "made-after-failure");
      fs.writeFileSync(probe, "");
      expect(mode(probe)).toBe(0o644);
      const next = await startTestDaemon({ cacheDir });
      await next.dispose();
    } finally {
      process.umask(before);
    }
  });
});
