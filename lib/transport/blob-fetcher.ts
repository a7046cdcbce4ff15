import type { BlobSource } from "../outputs/manifest";
import { concatBytes } from "../protocol/bytes";
import { RuntimedError } from "../protocol/errors";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Tuning for {@link BlobFetcher}. */
export interface BlobFetcherOptions {
  /** Bytes of blobs kept in memory, least recently used evicted first (default 64 MiB). */
  maxCacheBytes?: number;
  /** How long one request may take before it fails with `DAEMON_UNAVAILABLE` (default 30 s). */
  timeoutMs?: number;
  /** Largest blob accepted (default 1 GiB + 1 MiB, just over the daemon's largest output); bigger answers fail with `PROTOCOL`. */
  maxBlobBytes?: number;
  /** The daemon's token (`runtimed daemon status`), sent as `Authorization: token <T>`. Without it, a page's cookie is used. */
  token?: string;
}

/**
 * Reads blobs from the daemon's network face (`GET <daemon url>/blob/<sha256>` with the daemon's
 * token), checks each against its hash where the runtime can hash (Node, secure browser pages),
 * and keeps recent ones in a byte-bounded LRU cache. Concurrent requests for one hash share one
 * download. A `BlobSource` for `fromManifest`; uses `fetch`, so it runs in browsers and in Node.
 */
export class BlobFetcher implements BlobSource {
  private readonly cache = new Map<string, Uint8Array>();
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  private readonly controllers = new Set<AbortController>();
  private cachedBytes = 0;
  private readonly maxCacheBytes: number;
  private readonly timeoutMs: number;
  private readonly maxBlobBytes: number;
  private readonly headers: Record<string, string>;
  private readonly base: string;

  /** `daemonUrl` is the daemon's `url` (`http://127.0.0.1:<port>/`). */
  constructor(daemonUrl: string, options: BlobFetcherOptions = {}) {
    this.base = daemonUrl.endsWith("/") ? daemonUrl : `${daemonUrl}/`;
    this.maxCacheBytes = options.maxCacheBytes ?? 64 * 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBlobBytes = options.maxBlobBytes ?? 1025 * 1024 * 1024;
    this.headers = options.token === undefined ? {} : { authorization: `token ${options.token}` };
  }

  /** The bytes of blob `hash`, from the cache or the daemon. */
  get(hash: string): Promise<Uint8Array> {
    if (!SHA256_HEX.test(hash)) {
      return Promise.reject(new RuntimedError("PROTOCOL", `Not a blob hash: ${JSON.stringify(String(hash).slice(0, 80))}`));
    }
    const cached = this.peek(hash);
    if (cached) return Promise.resolve(cached);
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

  /** A cached blob, without asking the daemon; undefined when it is not cached. */
  peek(hash: string): Uint8Array | undefined {
    const cached = this.cache.get(hash);
    if (cached) {
      // Re-inserting moves the entry to the young end of the Map's insertion order.
      this.cache.delete(hash);
      this.cache.set(hash, cached);
    }
    return cached;
  }

  /** Bytes currently held in the cache. */
  get cacheBytes(): number {
    return this.cachedBytes;
  }

  /** Drops the cache and cancels downloads in flight. */
  close(): void {
    this.cache.clear();
    this.cachedBytes = 0;
    for (const controller of this.controllers) controller.abort();
    this.controllers.clear();
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

  private async download(hash: string): Promise<Uint8Array> {
    const url = `${this.base}blob/${hash}`;
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(url, { headers: this.headers, signal: controller.signal, credentials: "same-origin" });
      } catch (error) {
        throw unavailable(url, error);
      }
      if (response.status === 401) {
        await response.body?.cancel();
        throw new RuntimedError(
          "UNAUTHORIZED",
          this.headers.authorization === undefined
            ? `Blob ${hash} from ${this.base} needs the daemon's token (\`npx runtimed daemon status\` shows it)`
            : `The daemon at ${this.base} refused the token for blob ${hash}; see \`npx runtimed daemon status\` for the current one`,
        );
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        const why = response.status === 404 ? "the daemon's blob store does not have it" : `the daemon answered HTTP ${response.status}`;
        throw new RuntimedError("PROTOCOL", `Cannot read blob ${hash} from ${url}: ${why}`);
      }
      const declared = Number(response.headers.get("content-length"));
      if (Number.isFinite(declared) && declared > this.maxBlobBytes) {
        await response.body?.cancel();
        throw tooLarge(hash, declared, this.maxBlobBytes);
      }
      const bytes = await this.readBody(response, hash, url);
      const actual = await sha256Hex(bytes);
      if (actual !== undefined && actual !== hash) {
        throw new RuntimedError("PROTOCOL", `Blob ${hash} from ${url} has the wrong contents (their sha256 is ${actual})`);
      }
      return bytes;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  private async readBody(response: Response, hash: string, url: string): Promise<Uint8Array> {
    const reader = response.body?.getReader();
    if (!reader) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let received = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        if (received > this.maxBlobBytes) {
          await reader.cancel();
          throw tooLarge(hash, received, this.maxBlobBytes);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof RuntimedError) throw error;
      throw unavailable(url, error);
    }
    return concatBytes(chunks, received);
  }
}

/** The sha256 hex of `bytes`, or undefined where the runtime cannot hash (a plain-http page on another host). */
async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = (globalThis as { crypto?: { subtle?: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!subtle) return undefined;
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function unavailable(url: string, error: unknown): RuntimedError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ? `${cause.code}: ${cause.message ?? ""}` : error instanceof Error ? error.message : String(error);
  return new RuntimedError(
    "DAEMON_UNAVAILABLE",
    `Cannot reach the daemon at ${url} (${detail}); is the daemon running? Check with \`npx runtimed daemon status\``,
    { cause: error },
  );
}

function tooLarge(hash: string, size: number, limit: number): RuntimedError {
  return new RuntimedError("PROTOCOL", `Blob ${hash} is ${size} bytes, over the ${limit}-byte limit for one blob`);
}
