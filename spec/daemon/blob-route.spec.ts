import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobStore } from "../../lib/daemon/blob-store";
import { HttpFace } from "../../lib/daemon/http-face";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let root: string;
let store: BlobStore;
let server: HttpFace;
let agent: http.Agent;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "runtimed-blob-route-"));
  store = new BlobStore(join(root, "blobs"));
  server = await startFace();
});

beforeEach(() => {
  agent = new http.Agent({ keepAlive: true });
});

afterEach(() => agent.destroy());

/** The daemon's network face over `store`, with no page directory: only blobs answer. */
function startFace(): Promise<HttpFace> {
  return HttpFace.start({ blobs: store, pageDir: join(root, "no-page"), env: {}, listRooms: () => [], onWebSocket: (socket) => socket.terminate() });
}

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** One request with the path sent exactly as given (node does not normalise it), with the token. */
function request(path: string, options: { method?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `token ${server.token}`, ...options.headers };
    const outgoing = http.request(
      { host: "127.0.0.1", port: server.port, path, method: options.method ?? "GET", headers, agent, timeout: 10_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on("error", reject);
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error("request timed out")));
    outgoing.on("error", reject);
    outgoing.end();
  });
}

describe("the network face's /blob/<sha256>", () => {
  it("serves a blob with its media type, length and immutable caching", async () => {
    const hash = store.put(Buffer.from('{"a": 1}'), "application/json");
    const answer = await request(`/blob/${hash}`);
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('{"a": 1}');
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(answer.headers["content-length"]).toBe("8");
    expect(answer.headers["cache-control"]).toBe("private, max-age=31536000, immutable");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    expect(answer.headers.etag).toBe(`"${hash}"`);
  });

  it("serves a 5 MB image whole", async () => {
    const bytes = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    const hash = store.put(bytes, "image/png");
    const answer = await request(`/blob/${hash}`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("image/png");
    expect(createHash("sha256").update(answer.body).digest("hex")).toBe(hash);
  });

  it("answers HEAD with the headers and no body, and a matching If-None-Match with 304", async () => {
    const hash = store.put(Buffer.from("head me"), "text/plain");
    const head = await request(`/blob/${hash}`, { method: "HEAD" });
    expect({ status: head.status, length: head.headers["content-length"], type: head.headers["content-type"], body: head.body.length }).toEqual({
      status: 200,
      length: "7",
      type: "text/plain",
      body: 0,
    });
    const cached = await request(`/blob/${hash}`, { headers: { "if-none-match": `"${hash}"` } });
    expect({ status: cached.status, body: cached.body.length }).toEqual({ status: 304, body: 0 });
  });

  it("answers 404 for a hash it does not have", async () => {
    const unknown = createHash("sha256").update("nothing").digest("hex");
    const answer = await request(`/blob/${unknown}`);
    expect(answer.status).toBe(404);
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("serves nothing else: other paths, traversal attempts and malformed hashes are 404", async () => {
    // The page directory does not exist here, so "/" and every non-blob path have nothing to serve.
    const hash = store.put(Buffer.from("real"), "text/plain");
    const paths = [
      "/",
      "/blob",
      "/blob/",
      "/blob/../../etc/passwd",
      "/blob/..%2f..%2fetc%2fpasswd",
      "/blob/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      `/blob/../blob/${hash}`,
      `//blob/${hash}`,
      `/blob//${hash}`,
      `/blob/${hash}/`,
      `/blob/${hash}.json`,
      `/blob/${hash.toUpperCase()}`,
      `/blob/${hash.slice(0, 2)}/${hash}`,
      `/blobs/${hash}`,
      "/daemon.json",
      "/etc/passwd",
    ];
    for (const path of paths) {
      const answer = await request(path);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(answer.body.toString()).not.toContain("real");
    }
  });

  it("refuses other methods on a blob with 405", async () => {
    const hash = store.put(Buffer.from("read only"), "text/plain");
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const answer = await request(`/blob/${hash}`, { method });
      expect({ method, status: answer.status, allow: answer.headers.allow }).toEqual({ method, status: 405, allow: "GET, HEAD" });
    }
    expect(store.get(hash)?.toString()).toBe("read only");
  });

  it("serves a blob whose URL carries ?token= rather than a header", async () => {
    const hash = store.put(Buffer.from("by query"), "text/plain");
    const answer = await request(`/blob/${hash}?token=${server.token}`, { headers: { authorization: "" } });
    expect({ status: answer.status, body: answer.body.toString() }).toEqual({ status: 200, body: "by query" });
  });

  it("listens on 127.0.0.1 only", async () => {
    expect(server.port).toBeGreaterThan(0);
    const hash = store.put(Buffer.from("loopback"), "text/plain");
    expect((await request(`/blob/${hash}`)).status).toBe(200);
    const address = (server as unknown as { server: http.Server }).server.address();
    expect(address).toMatchObject({ address: "127.0.0.1" });
  });
});

describe("HttpFace.close", () => {
  it("closes idle keep-alive connections too, and a closed server refuses connections", async () => {
    const own = await startFace();
    const keepAlive = new http.Agent({ keepAlive: true });
    try {
      const hash = store.put(Buffer.from("keep alive"), "text/plain");
      // A finished request leaves its socket idle in the agent's pool, open to the server.
      const idleSocket = await new Promise<Socket>((resolve, reject) => {
        const headers = { authorization: `token ${own.token}` };
        const outgoing = http.get({ host: "127.0.0.1", port: own.port, path: `/blob/${hash}`, headers, agent: keepAlive, timeout: 10_000 }, (response) => {
          response.resume();
          response.on("end", () => setImmediate(() => resolve(outgoing.socket!)));
        });
        outgoing.on("error", reject);
      });
      expect(idleSocket.destroyed).toBe(false);
      const socketClosed = new Promise<void>((resolve) => idleSocket.once("close", () => resolve()));
      const port = own.port;
      await own.close();
      await socketClosed;
      const refused = await new Promise<string>((resolve) => {
        http.get({ host: "127.0.0.1", port, path: `/blob/${hash}`, timeout: 10_000 }).on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "")).end();
      });
      expect(refused).toBe("ECONNREFUSED");
      await own.close();
    } finally {
      keepAlive.destroy();
      await own.close();
    }
  });
});
