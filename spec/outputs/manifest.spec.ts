import { createHash } from "node:crypto";
import type * as nbformat from "@jupyterlab/nbformat";
import {
  BLOB_THRESHOLD_BYTES,
  decodeManifest,
  encodeManifest,
  fromInlineManifest,
  fromManifest,
  toManifest,
  type BlobSink,
  type BlobSource,
} from "../../lib/outputs/manifest";
import { RuntimedError } from "../../lib/protocol/errors";

class MemoryBlobs implements BlobSink, BlobSource {
  readonly blobs = new Map<string, { bytes: Uint8Array; mediaType: string }>();

  put(bytes: Uint8Array, mediaType: string): string {
    const hash = createHash("sha256").update(bytes).digest("hex");
    this.blobs.set(hash, { bytes, mediaType });
    return hash;
  }

  async get(hash: string): Promise<Uint8Array> {
    const blob = this.blobs.get(hash);
    if (!blob) throw new Error(`no blob ${hash}`);
    return blob.bytes;
  }
}

const stream: nbformat.IStream = { output_type: "stream", name: "stdout", text: "hello\nwörld\n" };
const display: nbformat.IDisplayData = {
  output_type: "display_data",
  data: { "text/plain": "<Figure>", "image/png": "iVBORw0KGgo=", "application/json": { a: [1, 2], b: null } },
  metadata: { "image/png": { width: 10 } },
};
const result: nbformat.IExecuteResult = {
  output_type: "execute_result",
  execution_count: 3,
  data: { "text/plain": "42", "text/html": "<b>42</b>" },
  metadata: {},
};
const error: nbformat.IError = {
  output_type: "error",
  ename: "ValueError",
  evalue: "bad",
  traceback: ["\x1b[31mTraceback\x1b[0m", "line\nwith newline", "ValueError: bad"],
};

async function roundTrip(output: nbformat.IOutput, blobs?: MemoryBlobs): Promise<nbformat.IOutput> {
  const encoded = encodeManifest(toManifest(output, blobs));
  return fromManifest(decodeManifest(encoded), blobs);
}

describe("output manifests", () => {
  it.each([
    ["stream", stream],
    ["display_data", display],
    ["execute_result", result],
    ["error", error],
  ])("a %s output round-trips", async (_name, output) => {
    expect(await roundTrip(output)).toEqual(output);
    expect(fromInlineManifest(decodeManifest(encodeManifest(toManifest(output))))).toEqual(output);
  });

  it("stores every payload as a content reference", () => {
    expect(toManifest(stream)).toEqual({ output_type: "stream", name: "stdout", text: { inline: "hello\nwörld\n" } });
    expect(toManifest(display)).toEqual({
      output_type: "display_data",
      data: {
        "text/plain": { inline: "<Figure>" },
        "image/png": { inline: "iVBORw0KGgo=" },
        "application/json": { inline: '{"a":[1,2],"b":null}', json: true },
      },
      metadata: { "image/png": { width: 10 } },
    });
    expect(toManifest(error)).toMatchObject({ traceback: { inline: JSON.stringify(error.traceback), json: true } });
  });

  it("joins nbformat multiline strings and hands back plain strings", async () => {
    const multiline: nbformat.IOutput = {
      output_type: "display_data",
      data: { "text/plain": ["a\n", "b"], "application/vnd.custom+json": ["kept", "as list"] },
      metadata: {},
    };
    expect(await roundTrip(multiline)).toEqual({
      output_type: "display_data",
      data: { "text/plain": "a\nb", "application/vnd.custom+json": ["kept", "as list"] },
      metadata: {},
    });
    expect(await roundTrip({ output_type: "stream", name: "stderr", text: ["x\n", "y"] })).toEqual({
      output_type: "stream",
      name: "stderr",
      text: "x\ny",
    });
  });

  it("keeps a JSON mime value that is a string a string", async () => {
    const output: nbformat.IOutput = { output_type: "display_data", data: { "application/json": "just text" }, metadata: {} };
    expect(await roundTrip(output)).toEqual(output);
  });

  describe("blob threshold", () => {
    it("keeps payloads under 8 KiB inline and puts larger ones in the blob store", async () => {
      const blobs = new MemoryBlobs();
      const small = "s".repeat(BLOB_THRESHOLD_BYTES - 1);
      const exact = "e".repeat(BLOB_THRESHOLD_BYTES);
      const output: nbformat.IOutput = { output_type: "display_data", data: { "text/plain": small, "text/html": exact }, metadata: {} };
      const manifest = toManifest(output, blobs);
      if (manifest.output_type !== "display_data") throw new Error("wrong type");
      expect(manifest.data["text/plain"]).toEqual({ inline: small });
      const hash = createHash("sha256").update(exact).digest("hex");
      expect(manifest.data["text/html"]).toEqual({ blob: hash, size: BLOB_THRESHOLD_BYTES });
      expect(blobs.blobs.get(hash)?.mediaType).toBe("text/html");
      expect(await fromManifest(decodeManifest(encodeManifest(manifest)), blobs)).toEqual(output);
    });

    it("measures the threshold in UTF-8 bytes", () => {
      const blobs = new MemoryBlobs();
      const wide = "é".repeat(BLOB_THRESHOLD_BYTES / 2); // 2 bytes each
      const manifest = toManifest({ output_type: "stream", name: "stdout", text: wide }, blobs);
      expect(manifest).toMatchObject({ text: { size: BLOB_THRESHOLD_BYTES } });
      const narrow = "é".repeat(BLOB_THRESHOLD_BYTES / 2 - 1) + "a";
      expect(toManifest({ output_type: "stream", name: "stdout", text: narrow }, blobs)).toMatchObject({
        text: { inline: narrow },
      });
    });

    it("stores large JSON values and tracebacks as JSON blobs", async () => {
      const blobs = new MemoryBlobs();
      const big = { values: Array.from({ length: 3000 }, (_, i) => i) };
      const output: nbformat.IOutput = { output_type: "execute_result", execution_count: null, data: { "application/json": big }, metadata: {} };
      const manifest = toManifest(output, blobs);
      expect(manifest).toMatchObject({ data: { "application/json": { json: true, size: JSON.stringify(big).length } } });
      expect(await fromManifest(manifest, blobs)).toEqual(output);

      const longError: nbformat.IError = { ...error, traceback: Array.from({ length: 500 }, (_, i) => `frame ${i} `.repeat(5)) };
      expect(toManifest(longError, blobs)).toMatchObject({ traceback: { json: true } });
      expect(await roundTrip(longError, blobs)).toEqual(longError);
    });

    it("keeps everything inline without a blob store", () => {
      const text = "x".repeat(100_000);
      expect(toManifest({ output_type: "stream", name: "stdout", text })).toEqual({
        output_type: "stream",
        name: "stdout",
        text: { inline: text },
      });
    });

    it("accepts a synchronous blob source", async () => {
      const blobs = new MemoryBlobs();
      const manifest = toManifest({ output_type: "stream", name: "stdout", text: "z".repeat(10_000) }, blobs);
      const source: BlobSource = { get: (hash) => blobs.blobs.get(hash)!.bytes };
      expect(await fromManifest(manifest, source)).toMatchObject({ text: "z".repeat(10_000) });
    });

    it("refuses blob references without a blob store", async () => {
      const manifest = toManifest({ output_type: "stream", name: "stdout", text: "z".repeat(10_000) }, new MemoryBlobs());
      expect(() => fromInlineManifest(manifest)).toThrow(RuntimedError);
      expect(() => fromInlineManifest(manifest)).toThrow(expect.objectContaining({ code: "PROTOCOL" }));
      await expect(fromManifest(manifest)).rejects.toMatchObject({ code: "PROTOCOL" });
    });

    it("refuses a blob whose size does not match", async () => {
      const blobs = new MemoryBlobs();
      const manifest = toManifest({ output_type: "stream", name: "stdout", text: "z".repeat(10_000) }, blobs);
      const source: BlobSource = { get: () => new Uint8Array(3) };
      await expect(fromManifest(manifest, source)).rejects.toMatchObject({ code: "PROTOCOL" });
    });
  });

  describe("decodeManifest", () => {
    it.each([
      ["not JSON", "{oops"],
      ["a number", "42"],
      ["an unknown output type", '{"output_type":"widget"}'],
      ["a stream with a plain string", '{"output_type":"stream","name":"stdout","text":"hi"}'],
      ["a stream with a bad name", '{"output_type":"stream","name":"stdin","text":{"inline":"hi"}}'],
      ["a bad blob hash", '{"output_type":"stream","name":"stdout","text":{"blob":"xyz","size":1}}'],
      ["a negative blob size", `{"output_type":"stream","name":"stdout","text":{"blob":"${"a".repeat(64)}","size":-1}}`],
      ["a json marker that is not true", '{"output_type":"stream","name":"stdout","text":{"inline":"1","json":false}}'],
      ["display data without metadata", '{"output_type":"display_data","data":{}}'],
      ["display data with a raw value", '{"output_type":"display_data","data":{"text/plain":"x"},"metadata":{}}'],
      ["a string execution count", '{"output_type":"execute_result","execution_count":"1","data":{},"metadata":{}}'],
      ["an error without ename", '{"output_type":"error","evalue":"x","traceback":{"inline":"[]","json":true}}'],
    ])("refuses %s", (_name, encoded) => {
      expect(() => decodeManifest(encoded)).toThrow(expect.objectContaining({ name: "RuntimedError", code: "PROTOCOL" }));
    });

    it("accepts a blob reference", () => {
      const encoded = `{"output_type":"stream","name":"stdout","text":{"blob":"${"a".repeat(64)}","size":9000}}`;
      expect(decodeManifest(encoded)).toEqual(JSON.parse(encoded));
    });
  });

  it("refuses to store an output of an unknown type", () => {
    expect(() => toManifest({ output_type: "mystery" } as nbformat.IOutput)).toThrow(RuntimedError);
  });
});
