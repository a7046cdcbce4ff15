/**
 * `GET`/`HEAD /blob/<sha256 hex>` on the daemon's network face (DESIGN.md "Notebook document"):
 * the blob with its media type, cached forever since a hash never changes its bytes.
 */
import type * as http from "node:http";
import { isBlobHash, type BlobStore } from "./blob-store";

// Matched against the raw request target, never a decoded or normalised one, so `%2e%2e`,
// `..` and doubled slashes are simply not blob URLs. A query string (`?token=`) is ignored.
const BLOB_PATH = /^\/blob\/([0-9a-f]{64})(?:\?[^#]*)?$/;
// private: the bytes are behind the token, so no shared cache may keep them.
const IMMUTABLE = "private, max-age=31536000, immutable";

/** The hash a request target asks for, or undefined when it is not exactly a blob URL. */
export function blobHashOf(target: string): string | undefined {
  const hash = BLOB_PATH.exec(target)?.[1];
  return isBlobHash(hash) ? hash : undefined;
}

/** Answers a GET or HEAD for blob `hash` from `store` (404 when it has no such blob). */
export function serveBlob(store: BlobStore, hash: string, request: http.IncomingMessage, response: http.ServerResponse): void {
  let blob;
  try {
    blob = store.open(hash);
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

/** A short plain-text answer. */
export function plain(response: http.ServerResponse, status: number, body: string): void {
  response.statusCode = status;
  response.setHeader("content-type", "text/plain; charset=utf-8");
  response.setHeader("content-length", Buffer.byteLength(body));
  response.end(body);
}
