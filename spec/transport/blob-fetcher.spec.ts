import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as nbformat from "@jupyterlab/nbformat";
import { BlobStore } from "../../lib/daemon/blob-store";
import { HttpFace } from "../../lib/daemon/http-face";
import { fromManifest, toManifest } from "../../lib/outputs/manifest";
import { RuntimedError } from "../../lib/protocol/errors";
import { BlobFetcher } from "../../lib/transport/blob-fetcher";

let root: string;
let store: BlobStore;
let server: HttpFace;
const fetchers: BlobFetcher[] = [];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "runtimed-blob-fetcher-"));
  store = new BlobStore(join(root, "blobs"));
  server = await HttpFace.start({ blobs: store, env: {}, listRooms: () => [], onWebSocket: (socket) => socket.terminate() });
});

afterEach(async () => {
  for (const fetcher of fetchers.splice(0)) fetcher.close();
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** A fetcher with the daemon's token unless `options` says otherwise. */
function fetcher(port = server.port, options?: ConstructorParameters<typeof BlobFetcher>[1]): BlobFetcher {
  const created = new BlobFetcher(`http://127.0.0.1:${port}/`, { token: server.token, ...options });
  fetchers.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<RuntimedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimedError);
    return error as RuntimedError;
  }
  throw new Error("expected a failure");
}

/** A tiny HTTP server of the test's own that answers every request with `handler`. */
async function withServer(handler: http.RequestListener, run: (port: number) => Promise<void>): Promise<void> {
  const other = http.createServer(handler);
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", () => resolve()));
  try {
    await run((other.address() as AddressInfo).port);
  } finally {
    other.closeAllConnections();
    await new Promise<void>((resolve) => other.close(() => resolve()));
  }
}

describe("BlobFetcher", () => {
  it("fetches a blob's bytes from the daemon's blob server", async () => {
    const bytes = Buffer.from("fetched ✓");
    const hash = store.put(bytes, "text/plain");
    expect(Buffer.from(await fetcher().get(hash))).toEqual(bytes);
  });

  it("resolves large output payloads for fromManifest, so users get plain nbformat outputs", async () => {
    const text = "x".repeat(50_000) + "\n";
    const output: nbformat.IStream = { output_type: "stream", name: "stdout", text };
    const manifest = toManifest(output, store);
    expect(JSON.stringify(manifest)).toContain('"blob"');
    expect(await fromManifest(manifest, fetcher())).toEqual(output);
  });

  it("shares one download between concurrent requests and answers later ones from its cache", async () => {
    const hash = store.put(Buffer.from("cached"), "text/plain");
    const blobs = fetcher();
    const first = blobs.get(hash);
    expect(blobs.get(hash)).toBe(first);
    await first;
    expect(blobs.cacheBytes).toBe(6);
    await server.close();
    expect(Buffer.from(await blobs.get(hash)).toString()).toBe("cached");
  });

  it("evicts the least recently used blobs to stay within its byte budget", async () => {
    const hashes = ["a", "b", "c"].map((letter) => store.put(Buffer.alloc(400, letter), "application/octet-stream"));
    const blobs = fetcher(server.port, { maxCacheBytes: 1000 });
    await blobs.get(hashes[0]!);
    await blobs.get(hashes[1]!);
    await blobs.get(hashes[0]!); // now b is the least recently used
    await blobs.get(hashes[2]!);
    expect(blobs.cacheBytes).toBe(800);
    await server.close();
    expect(Buffer.from(await blobs.get(hashes[0]!))[0]).toBe("a".charCodeAt(0));
    expect(Buffer.from(await blobs.get(hashes[2]!))[0]).toBe("c".charCodeAt(0));
    expect((await failure(blobs.get(hashes[1]!))).code).toBe("DAEMON_UNAVAILABLE");
  });

  it("does not cache a blob bigger than the whole budget", async () => {
    const hash = store.put(Buffer.alloc(2000, 1), "application/octet-stream");
    const blobs = fetcher(server.port, { maxCacheBytes: 1000 });
    expect((await blobs.get(hash)).byteLength).toBe(2000);
    expect(blobs.cacheBytes).toBe(0);
  });

  it("fails with PROTOCOL naming the blob when the daemon does not have it", async () => {
    const unknown = createHash("sha256").update("missing").digest("hex");
    const error = await failure(fetcher().get(unknown));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain(unknown);
    expect(error.message).toContain("does not have it");
  });

  it("fails with UNAUTHORIZED, saying where to find the token, when the daemon refuses its token", async () => {
    const hash = store.put(Buffer.from("guarded"), "text/plain");
    const wrong = await failure(fetcher(server.port, { token: "0".repeat(64) }).get(hash));
    expect(wrong.code).toBe("UNAUTHORIZED");
    expect(wrong.message).toMatch(/refused the token.*daemon status/);
    const none = await failure(fetcher(server.port, { token: undefined }).get(hash));
    expect(none.code).toBe("UNAUTHORIZED");
    expect(none.message).toContain("needs the daemon's token");
  });

  it("fails with PROTOCOL on something that is not a blob hash, without asking", async () => {
    const error = await failure(fetcher().get("../../etc/passwd"));
    expect(error.code).toBe("PROTOCOL");
  });

  it("fails with DAEMON_UNAVAILABLE, saying how to check the daemon, when nothing listens", async () => {
    const hash = store.put(Buffer.from("unreachable"), "text/plain");
    const port = server.port;
    await server.close();
    const error = await failure(fetcher(port).get(hash));
    expect(error.code).toBe("DAEMON_UNAVAILABLE");
    expect(error.message).toMatch(/ECONNREFUSED.*daemon status/);
  });

  it("rejects bytes that do not match their hash", async () => {
    const hash = createHash("sha256").update("the real bytes").digest("hex");
    await withServer(
      (_request, response) => response.end("other bytes"),
      async (port) => {
        const error = await failure(fetcher(port).get(hash));
        expect(error.code).toBe("PROTOCOL");
        expect(error.message).toContain("wrong contents");
      },
    );
  });

  it("fails with DAEMON_UNAVAILABLE when the connection drops mid-blob", async () => {
    const hash = createHash("sha256").update("cut short").digest("hex");
    await withServer(
      (_request, response) => {
        response.writeHead(200, { "content-length": "1000" });
        response.write("only part");
        setImmediate(() => response.socket?.destroy());
      },
      async (port) => {
        expect((await failure(fetcher(port).get(hash))).code).toBe("DAEMON_UNAVAILABLE");
      },
    );
  });

  it("refuses a blob over its size limit", async () => {
    const hash = store.put(Buffer.alloc(5000), "application/octet-stream");
    const error = await failure(fetcher(server.port, { maxBlobBytes: 1000 }).get(hash));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toMatch(/over the 1000-byte limit/);
  });

  it("imports nothing from the daemon (the client must run without it)", () => {
    const source = readFileSync(join(__dirname, "..", "..", "lib", "transport", "blob-fetcher.ts"), "utf8");
    expect(source).not.toMatch(/from "\.\.\/(daemon|kernel|env)\//);
  });
});
