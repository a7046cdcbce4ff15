import { createHash } from "node:crypto";
import * as http from "node:http";
import type { BlobSource } from "../outputs/manifest";
import { RuntimedError } from "../protocol/errors";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Tuning for {@link BlobFetcher}. */
export interface BlobFetcherOptions {
  /** Bytes of blobs kept in memory, least recently used evicted first (default 64 MiB). */
  maxCacheBytes?: number;
  /** How long one request may take before it fails with `DAEMON_UNAVAILABLE` (default 30 s). */
  timeoutMs?: number;
  /** Largest blob accepted (default 256 MiB); bigger answers fail with `PROTOCOL`. */
  maxBlobBytes?: number;
  /** The daemon's token (`runtimed daemon status`), sent as `Authorization: token <T>`. */
  token?: string;
}

/**
 * Reads blobs from the daemon's network face (`GET /blob/<sha256>` with the daemon's token; the
 * port and token are in `daemon.json` and `runtimed daemon status`), checks each against its
 * hash, and keeps recent ones in a byte-bounded LRU cache. Concurrent requests for one hash share
 * one download. A `BlobSource` for `fromManifest`.
 */
export class BlobFetcher implements BlobSource {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8, timeout: 5_000 });
  private readonly cache = new Map<string, Uint8Array>();
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  private cachedBytes = 0;
  private readonly maxCacheBytes: number;
  private readonly timeoutMs: number;
  private readonly maxBlobBytes: number;
  private readonly headers: Record<string, string>;

  constructor(
    readonly port: number,
    readonly host = "127.0.0.1",
    options: BlobFetcherOptions = {},
  ) {
    this.maxCacheBytes = options.maxCacheBytes ?? 64 * 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBlobBytes = options.maxBlobBytes ?? 256 * 1024 * 1024;
    this.headers = options.token === undefined ? {} : { authorization: `token ${options.token}` };
  }

  /** The bytes of blob `hash`, from the cache or the daemon. */
  get(hash: string): Promise<Uint8Array> {
    if (!SHA256_HEX.test(hash)) {
      return Promise.reject(new RuntimedError("PROTOCOL", `Not a blob hash: ${JSON.stringify(String(hash).slice(0, 80))}`));
    }
    const cached = this.cache.get(hash);
    if (cached) {
      // Re-inserting moves the entry to the young end of the Map's insertion order.
      this.cache.delete(hash);
      this.cache.set(hash, cached);
      return Promise.resolve(cached);
    }
    let pending = this.inFlight.get(hash);
    if (!pending) {
      pending = this.download(hash)
        .then((bytes) => {
          this.remember(hash, bytes);
          return bytes;
        })
        .finally(() => this.inFlight.delete(hash));
      this.inFlight.set(hash, pending);
    }
    return pending;
  }

  /** Bytes currently held in the cache. */
  get cacheBytes(): number {
    return this.cachedBytes;
  }

  /** Drops the cache and closes idle keep-alive connections to the daemon. */
  close(): void {
    this.cache.clear();
    this.cachedBytes = 0;
    this.agent.destroy();
  }

  private remember(hash: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxCacheBytes) return;
    this.cache.set(hash, bytes);
    this.cachedBytes += bytes.byteLength;
    for (const [oldest, oldBytes] of this.cache) {
      if (this.cachedBytes <= this.maxCacheBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= oldBytes.byteLength;
    }
  }

  private download(hash: string): Promise<Uint8Array> {
    const url = `http://${this.host}:${this.port}/blob/${hash}`;
    return new Promise<Uint8Array>((resolve, reject) => {
      const request = http.get(url, { agent: this.agent, timeout: this.timeoutMs, headers: this.headers }, (response) => {
        const status = response.statusCode ?? 0;
        if (status === 401) {
          response.resume();
          const why = this.headers.authorization ? "refused the token (a restarted daemon has a new one)" : "needs the daemon's token";
          reject(new RuntimedError("UNAUTHORIZED", `Cannot read blob ${hash} from ${url}: the daemon ${why}; see \`npx runtimed daemon status\``));
          return;
        }
        if (status !== 200) {
          response.resume();
          const why = status === 404 ? "the daemon's blob store does not have it" : `the blob server answered HTTP ${status}`;
          reject(new RuntimedError("PROTOCOL", `Cannot read blob ${hash} from ${url}: ${why}`));
          return;
        }
        const declared = Number(response.headers["content-length"]);
        if (Number.isFinite(declared) && declared > this.maxBlobBytes) {
          response.destroy();
          reject(tooLarge(hash, declared, this.maxBlobBytes));
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        response.on("data", (chunk: Buffer) => {
          received += chunk.byteLength;
          if (received > this.maxBlobBytes) {
            response.destroy();
            reject(tooLarge(hash, received, this.maxBlobBytes));
            return;
          }
          chunks.push(chunk);
        });
        response.on("error", (error) => reject(unavailable(url, error)));
        response.on("close", () => {
          if (!response.complete) reject(unavailable(url, new Error("the connection closed before the whole blob arrived")));
        });
        response.on("end", () => {
          const bytes = Buffer.concat(chunks, received);
          const actual = createHash("sha256").update(bytes).digest("hex");
          if (actual !== hash) {
            reject(new RuntimedError("PROTOCOL", `Blob ${hash} from ${url} has the wrong contents (their sha256 is ${actual})`));
            return;
          }
          resolve(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        });
      });
      request.on("timeout", () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on("error", (error) => reject(unavailable(url, error)));
    });
  }
}

function unavailable(url: string, error: Error): RuntimedError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code ? `${code}: ${error.message}` : error.message;
  return new RuntimedError(
    "DAEMON_UNAVAILABLE",
    `Cannot reach the daemon's blob server at ${url} (${reason}); is the daemon running? Check with \`npx runtimed daemon status\``,
    { cause: error },
  );
}

function tooLarge(hash: string, size: number, limit: number): RuntimedError {
  return new RuntimedError("PROTOCOL", `Blob ${hash} is ${size} bytes, over the ${limit}-byte limit for one blob`);
}
