import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as nbformat from "@jupyterlab/nbformat";
import { BlobStore, isBlobHash } from "../../lib/daemon/blob-store";
import { fromManifest, toManifest, type BlobSink } from "../../lib/outputs/manifest";
import { RuntimedError } from "../../lib/protocol/errors";

let root: string;
let store: BlobStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "runtimed-blob-store-"));
  store = new BlobStore(join(root, "blobs"));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");
const mode = (path: string) => statSync(path).mode & 0o777;

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimedError);
    return (error as RuntimedError).code;
  }
  return undefined;
}

describe("BlobStore", () => {
  it("stores bytes under their sha256 in fan-out directories, with the media type beside them", () => {
    const bytes = new TextEncoder().encode("héllo blob");
    const hash = store.put(bytes, "text/plain");
    expect(hash).toBe(sha256(bytes));
    const file = join(root, "blobs", hash.slice(0, 2), hash);
    expect(readFileSync(file)).toEqual(Buffer.from(bytes));
    expect(JSON.parse(readFileSync(`${file}.json`, "utf8"))).toEqual({ media_type: "text/plain", size: bytes.byteLength });
    expect(store.get(hash)).toEqual(Buffer.from(bytes));
    expect(store.has(hash)).toBe(true);
    expect(store.size(hash)).toBe(bytes.byteLength);
    expect(store.mediaType(hash)).toBe("text/plain");
    expect(readdirSync(join(root, "blobs", hash.slice(0, 2))).sort()).toEqual([hash, `${hash}.json`]);
  });

  it("keeps blobs private: directories 0700, files 0600", () => {
    const hash = store.put(Buffer.from("secret output"), "text/plain");
    const dir = join(root, "blobs", hash.slice(0, 2));
    expect(mode(join(root, "blobs"))).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, hash))).toBe(0o600);
    expect(mode(join(dir, `${hash}.json`))).toBe(0o600);
  });

  it("is idempotent: the same bytes give the same hash and the first media type stays", () => {
    const first = store.put(Buffer.from("same"), "text/plain");
    const second = store.put(Buffer.from("same"), "text/html");
    expect(second).toBe(first);
    expect(store.mediaType(first)).toBe("text/plain");
    expect(readdirSync(join(root, "blobs", first.slice(0, 2)))).toHaveLength(2);
  });

  it("stores empty and binary blobs", () => {
    const empty = store.put(new Uint8Array(0), "application/octet-stream");
    expect(empty).toBe(sha256(""));
    expect(store.get(empty)).toEqual(Buffer.alloc(0));
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(store.get(store.put(binary, "image/png"))).toEqual(Buffer.from(binary));
  });

  it("answers undefined or false for a well-formed hash it does not have", () => {
    const unknown = sha256("never stored");
    expect(store.get(unknown)).toBeUndefined();
    expect(store.has(unknown)).toBe(false);
    expect(store.size(unknown)).toBeUndefined();
    expect(store.mediaType(unknown)).toBeUndefined();
    expect(store.open(unknown)).toBeUndefined();
    expect(codeOf(() => store.read(unknown))).toBe("PROTOCOL");
  });

  it("refuses anything that is not 64 lowercase hex digits before touching the filesystem", () => {
    const valid = sha256("x");
    for (const bad of ["../../etc/passwd", "..", "", valid.toUpperCase(), valid.slice(1), `${valid}0`, `${valid.slice(0, 63)}/`, `ab/${valid}`]) {
      expect({ bad, code: codeOf(() => store.get(bad)) }).toEqual({ bad, code: "BAD_REQUEST" });
      expect({ bad, code: codeOf(() => store.has(bad)) }).toEqual({ bad, code: "BAD_REQUEST" });
      expect(isBlobHash(bad)).toBe(false);
    }
    expect(isBlobHash(valid)).toBe(true);
  });

  it("never records a media type that could break a header", () => {
    const hash = store.put(Buffer.from("<b>x</b>"), "text/html\r\nset-cookie: a=b");
    expect(store.mediaType(hash)).toBe("application/octet-stream");
    const svg = store.put(Buffer.from("<svg/>"), "image/svg+xml; charset=utf-8");
    expect(store.mediaType(svg)).toBe("image/svg+xml; charset=utf-8");
  });

  it("finds what an earlier store over the same directory put", () => {
    const hash = store.put(Buffer.from("persisted"), "text/plain");
    const reopened = new BlobStore(join(root, "blobs"));
    expect(reopened.get(hash)?.toString()).toBe("persisted");
    expect(reopened.mediaType(hash)).toBe("text/plain");
  });

  it("is the blob sink and source of output manifests: large payloads go in and come back", async () => {
    const sink: BlobSink = store;
    const png = Buffer.alloc(20_000, 7).toString("base64");
    const output: nbformat.IDisplayData = { output_type: "display_data", data: { "image/png": png, "text/plain": "<Figure>" }, metadata: {} };
    const manifest = toManifest(output, sink);
    const ref = (manifest as { data: Record<string, { blob?: string; size?: number }> }).data["image/png"]!;
    expect(ref.blob).toBe(sha256(png));
    expect(store.mediaType(ref.blob!)).toBe("image/png");
    expect(await fromManifest(manifest, store.asSource())).toEqual(output);
  });

  it("opens a blob for streaming with its size and media type", async () => {
    const bytes = Buffer.alloc(100_000, 1);
    const hash = store.put(bytes, "application/octet-stream");
    const blob = store.open(hash)!;
    expect({ size: blob.size, mediaType: blob.mediaType }).toEqual({ size: 100_000, mediaType: "application/octet-stream" });
    const chunks: Buffer[] = [];
    for await (const chunk of blob.stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(bytes);
  });

  it("putting bytes it already has refreshes the blob's mtime (the collector's grace period starts again) and keeps the file", () => {
    const hash = store.put(new TextEncoder().encode("stored twice"), "text/plain");
    const file = join(root, "blobs", hash.slice(0, 2), hash);
    const longAgo = new Date(Date.now() - 3600_000);
    utimesSync(file, longAgo, longAgo);
    expect(store.put(new TextEncoder().encode("stored twice"), "text/plain")).toBe(hash);
    expect(statSync(file).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect(readFileSync(file, "utf8")).toBe("stored twice");
  });
});
