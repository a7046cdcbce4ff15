import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { RuntimedError } from "../protocol/errors";
import { BlobStore, isBlobHash } from "./blob-store";

// Matched against the raw request target, never a decoded or normalised one, so `%2e%2e`,
// `..` and doubled slashes are simply not blob URLs. A query string is ignored.
const BLOB_PATH = /^\/blob\/([0-9a-f]{64})(?:\?[^#]*)?$/;
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * Serves the blob store over HTTP on 127.0.0.1 (DESIGN.md "Notebook document"): `GET` and
 * `HEAD /blob/<sha256 hex>` with the blob's media type, cached forever since a hash never
 * changes its bytes. Everything else is 404 (405 for other methods on a blob URL).
 */
export class BlobServer {
  private listeningPort = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly store: BlobStore,
  ) {}

  /** Starts serving `store` on 127.0.0.1 at a port the system picks (see {@link port}). */
  static async start(store: BlobStore): Promise<BlobServer> {
    const server = http.createServer();
    const blobServer = new BlobServer(server, store);
    server.on("request", (request, response) => blobServer.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) =>
        reject(new RuntimedError("INTERNAL", `Blob server could not listen on 127.0.0.1: ${error.message}`, { cause: error })),
      );
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    blobServer.listeningPort = (server.address() as AddressInfo).port;
    return blobServer;
  }

  /** The TCP port on 127.0.0.1, for `daemon.json`'s `blob_port`. */
  get port(): number {
    return this.listeningPort;
  }

  /** Stops listening and closes every connection, idle keep-alive ones too. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    response.setHeader("x-content-type-options", "nosniff");
    const hash = BLOB_PATH.exec(request.url ?? "")?.[1];
    if (!isBlobHash(hash)) return plain(response, 404, "Not found: this server serves only /blob/<sha256 hex>\n");
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      return plain(response, 405, "Method not allowed: use GET or HEAD\n");
    }
    let blob;
    try {
      blob = this.store.open(hash);
    } catch {
      return plain(response, 500, "Could not read the blob\n");
    }
    if (!blob) return plain(response, 404, `No blob ${hash}\n`);
    const etag = `"${hash}"`;
    response.setHeader("cache-control", IMMUTABLE);
    response.setHeader("etag", etag);
    if (request.headers["if-none-match"] === etag) {
      blob.stream.destroy();
      response.statusCode = 304;
      response.end();
      return;
    }
    response.statusCode = 200;
    response.setHeader("content-type", blob.mediaType);
    response.setHeader("content-length", blob.size);
    if (request.method === "HEAD") {
      blob.stream.destroy();
      response.end();
      return;
    }
    blob.stream.on("error", () => response.destroy());
    response.on("close", () => blob.stream.destroy());
    blob.stream.pipe(response);
  }
}

function plain(response: http.ServerResponse, status: number, body: string): void {
  response.statusCode = status;
  response.setHeader("content-type", "text/plain; charset=utf-8");
  response.setHeader("content-length", Buffer.byteLength(body));
  response.end(body);
}
