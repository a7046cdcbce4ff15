import type * as nbformat from "@jupyterlab/nbformat";
import { RuntimedError } from "../protocol/errors";

/**
 * Where one payload of an output lives: inline in the manifest, or in the content-addressed
 * blob store (by sha256 hex of its UTF-8 bytes). `json: true` marks a payload stored as JSON
 * text that comes back out parsed (a non-string MIME value, a traceback).
 */
export type ContentRef = { inline: string; json?: true } | { blob: string; size: number; json?: true };

/** A stream output whose text is a content reference. */
export interface StreamManifest {
  output_type: "stream";
  name: nbformat.StreamType;
  text: ContentRef;
}

/** A display_data output whose MIME values are content references. */
export interface DisplayDataManifest {
  output_type: "display_data";
  data: Record<string, ContentRef>;
  metadata: nbformat.OutputMetadata;
}

/** An execute_result output whose MIME values are content references. */
export interface ExecuteResultManifest {
  output_type: "execute_result";
  execution_count: number | null;
  data: Record<string, ContentRef>;
  metadata: nbformat.OutputMetadata;
}

/** An error output whose traceback (the whole list, as JSON) is one content reference. */
export interface ErrorManifest {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: ContentRef;
}

/**
 * An nbformat v4 output in which every payload is a {@link ContentRef}: what the notebook
 * document stores (JSON-encoded) in a cell's `outputs`.
 */
export type OutputManifest = StreamManifest | DisplayDataManifest | ExecuteResultManifest | ErrorManifest;

/** Where `toManifest` puts large payloads: stores bytes and returns their sha256 hex. */
export interface BlobSink {
  put(bytes: Uint8Array, mediaType: string): string;
}

/** Where `fromManifest` reads blob payloads back from, by sha256 hex. */
export interface BlobSource {
  get(hash: string): Uint8Array | Promise<Uint8Array>;
}

/** Payloads of at least this many UTF-8 bytes go to the blob store when one is given. */
export const BLOB_THRESHOLD_BYTES = 8192;

const JSON_MEDIA_TYPE = "application/json";
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Turns an nbformat output into a manifest: multiline strings are joined, non-string MIME
 * values become JSON text, and payloads of 8 KiB or more go to `blobs` when it is given.
 */
export function toManifest(output: nbformat.IOutput, blobs?: BlobSink): OutputManifest {
  switch (output.output_type) {
    case "stream": {
      const stream = output as nbformat.IStream;
      return {
        output_type: "stream",
        name: stream.name,
        text: textRef(joinMultiline(stream.text), "text/plain", false, blobs),
      };
    }
    case "display_data": {
      const display = output as nbformat.IDisplayData;
      return {
        output_type: "display_data",
        data: toRefs(display.data, blobs),
        metadata: display.metadata ?? {},
      };
    }
    case "execute_result": {
      const result = output as nbformat.IExecuteResult;
      return {
        output_type: "execute_result",
        execution_count: result.execution_count ?? null,
        data: toRefs(result.data, blobs),
        metadata: result.metadata ?? {},
      };
    }
    case "error": {
      const error = output as nbformat.IError;
      return {
        output_type: "error",
        ename: error.ename,
        evalue: error.evalue,
        traceback: textRef(JSON.stringify(error.traceback), JSON_MEDIA_TYPE, true, blobs),
      };
    }
    default:
      throw new RuntimedError("BAD_REQUEST", `Cannot store an output of type ${JSON.stringify(output.output_type)}`);
  }
}

/** Turns a manifest back into a plain nbformat output, reading blob payloads from `blobs`. */
export async function fromManifest(manifest: OutputManifest, blobs?: BlobSource): Promise<nbformat.IOutput> {
  const blobRefs = contentRefs(manifest).filter((ref): ref is BlobRef => "blob" in ref);
  const texts = new Map<string, string>();
  await Promise.all(
    blobRefs.map(async (ref) => {
      if (!blobs) throw missingBlob(ref.blob);
      const bytes = await blobs.get(ref.blob);
      if (bytes.byteLength !== ref.size) {
        throw new RuntimedError("PROTOCOL", `Blob ${ref.blob} has ${bytes.byteLength} bytes, the manifest says ${ref.size}`);
      }
      texts.set(ref.blob, utf8Decoder.decode(bytes));
    }),
  );
  return buildOutput(manifest, (ref) => ("inline" in ref ? ref.inline : (texts.get(ref.blob) ?? "")));
}

/**
 * Like {@link fromManifest}, reading blob payloads synchronously with `readBlob` (a client on
 * the daemon's machine reads the store's files directly).
 */
export function fromManifestSync(manifest: OutputManifest, readBlob: (hash: string) => Uint8Array): nbformat.IOutput {
  return buildOutput(manifest, (ref) => {
    if ("inline" in ref) return ref.inline;
    const bytes = readBlob(ref.blob);
    if (bytes.byteLength !== ref.size) {
      throw new RuntimedError("PROTOCOL", `Blob ${ref.blob} has ${bytes.byteLength} bytes, the manifest says ${ref.size}`);
    }
    return utf8Decoder.decode(bytes);
  });
}

/**
 * Like {@link fromManifestSync}, for a reader that may not have every blob yet: a payload whose
 * blob `readBlob` does not have (undefined) comes out empty, and its hash is listed in `missing`.
 */
export function fromManifestPartial(
  manifest: OutputManifest,
  readBlob: (hash: string) => Uint8Array | undefined,
): { output: nbformat.IOutput; missing: string[] } {
  const missing: string[] = [];
  const output = buildOutput(manifest, (ref) => {
    if ("inline" in ref) return ref.inline;
    const bytes = readBlob(ref.blob);
    if (bytes === undefined) {
      missing.push(ref.blob);
      return ref.json ? "null" : "";
    }
    if (bytes.byteLength !== ref.size) {
      throw new RuntimedError("PROTOCOL", `Blob ${ref.blob} has ${bytes.byteLength} bytes, the manifest says ${ref.size}`);
    }
    return utf8Decoder.decode(bytes);
  });
  if (output.output_type === "error" && !Array.isArray(output.traceback)) output.traceback = [];
  return { output, missing };
}

/** The blob hashes a manifest refers to. */
export function manifestBlobs(manifest: OutputManifest): string[] {
  return contentRefs(manifest).flatMap((ref) => ("blob" in ref ? [ref.blob] : []));
}

/** Like {@link fromManifest} for manifests without blob references (throws `PROTOCOL` on one). */
export function fromInlineManifest(manifest: OutputManifest): nbformat.IOutput {
  return buildOutput(manifest, (ref) => {
    if ("inline" in ref) return ref.inline;
    throw missingBlob(ref.blob);
  });
}

/** The JSON text of a manifest, as stored in the notebook document. */
export function encodeManifest(manifest: OutputManifest): string {
  return JSON.stringify(manifest);
}

/** Parses and checks a manifest read from the document; throws `PROTOCOL` on anything else. */
export function decodeManifest(encoded: string): OutputManifest {
  let value: unknown;
  try {
    value = JSON.parse(encoded);
  } catch (error) {
    throw new RuntimedError("PROTOCOL", `Output manifest is not JSON: ${String(encoded).slice(0, 80)}`, { cause: error });
  }
  const problem = manifestProblem(value);
  if (problem) throw new RuntimedError("PROTOCOL", `Malformed output manifest (${problem}): ${encoded.slice(0, 80)}`);
  return value as OutputManifest;
}

/** A text payload as a content reference: inline below 8 KiB (or without `blobs`), else a blob. */
export function textRef(text: string, mediaType: string, json: boolean, blobs: BlobSink | undefined): ContentRef {
  const marker = json ? { json: true as const } : {};
  // A UTF-16 unit is 1-3 UTF-8 bytes, so short strings are inline without encoding them.
  if (!blobs || text.length * 3 < BLOB_THRESHOLD_BYTES) return { inline: text, ...marker };
  const bytes = utf8Encoder.encode(text);
  if (bytes.byteLength < BLOB_THRESHOLD_BYTES) return { inline: text, ...marker };
  return { blob: blobs.put(bytes, mediaType), size: bytes.byteLength, ...marker };
}

/** Like {@link textRef} for text already encoded as UTF-8 (not JSON). */
export function utf8Ref(bytes: Uint8Array, mediaType: string, blobs: BlobSink | undefined): ContentRef {
  if (!blobs || bytes.byteLength < BLOB_THRESHOLD_BYTES) return { inline: utf8Decoder.decode(bytes) };
  return { blob: blobs.put(bytes, mediaType), size: bytes.byteLength };
}

function toRefs(data: nbformat.IMimeBundle, blobs: BlobSink | undefined): Record<string, ContentRef> {
  const refs: Record<string, ContentRef> = {};
  for (const [mimeType, value] of Object.entries(data ?? {})) {
    if (value === undefined) continue;
    if (typeof value === "string") refs[mimeType] = textRef(value, mimeType, false, blobs);
    else if (!isJsonMimeType(mimeType) && isStringArray(value)) refs[mimeType] = textRef(value.join(""), mimeType, false, blobs);
    else refs[mimeType] = textRef(JSON.stringify(value), mimeType, true, blobs);
  }
  return refs;
}

/** JSON MIME values are data, never nbformat multiline strings, even when they are string lists. */
function isJsonMimeType(mimeType: string): boolean {
  return mimeType === JSON_MEDIA_TYPE || mimeType.endsWith("+json");
}

function joinMultiline(text: nbformat.MultilineString): string {
  return Array.isArray(text) ? text.join("") : text;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function missingBlob(hash: string): RuntimedError {
  return new RuntimedError("PROTOCOL", `Output payload is in blob ${hash}, but no blob store was given to read it`);
}

type BlobRef = Extract<ContentRef, { blob: string }>;

function contentRefs(manifest: OutputManifest): ContentRef[] {
  switch (manifest.output_type) {
    case "stream":
      return [manifest.text];
    case "error":
      return [manifest.traceback];
    case "display_data":
    case "execute_result":
      return Object.values(manifest.data);
  }
}

function buildOutput(manifest: OutputManifest, resolve: (ref: ContentRef) => string): nbformat.IOutput {
  const value = (ref: ContentRef): unknown => parsePayload(ref, resolve(ref));
  const bundle = (refs: Record<string, ContentRef>): nbformat.IMimeBundle => {
    const data: Record<string, unknown> = {};
    for (const [mimeType, ref] of Object.entries(refs)) data[mimeType] = value(ref);
    return data as nbformat.IMimeBundle;
  };
  switch (manifest.output_type) {
    case "stream":
      return { output_type: "stream", name: manifest.name, text: value(manifest.text) as string };
    case "error":
      return {
        output_type: "error",
        ename: manifest.ename,
        evalue: manifest.evalue,
        traceback: value(manifest.traceback) as string[],
      };
    case "display_data":
      return { output_type: "display_data", data: bundle(manifest.data), metadata: manifest.metadata };
    case "execute_result":
      return {
        output_type: "execute_result",
        execution_count: manifest.execution_count,
        data: bundle(manifest.data),
        metadata: manifest.metadata,
      };
  }
}

function parsePayload(ref: ContentRef, text: string): unknown {
  if (!ref.json) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RuntimedError("PROTOCOL", "Output payload marked as JSON is not JSON", { cause: error });
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function refProblem(value: unknown): string | undefined {
  if (!isObject(value)) return "content reference is not an object";
  if (value.json !== undefined && value.json !== true) return "json marker is not true";
  if ("inline" in value) return typeof value.inline === "string" ? undefined : "inline payload is not a string";
  if (typeof value.blob !== "string" || !SHA256_HEX.test(value.blob)) return "blob is not a sha256 hex";
  if (typeof value.size !== "number" || !Number.isSafeInteger(value.size) || value.size < 0) return "blob size is not a size";
  return undefined;
}

function dataProblem(value: unknown): string | undefined {
  if (!isObject(value)) return "data is not an object";
  for (const ref of Object.values(value)) {
    const problem = refProblem(ref);
    if (problem) return problem;
  }
  return undefined;
}

function displayProblem(value: Record<string, unknown>): string | undefined {
  if (!isObject(value.metadata)) return "metadata is not an object";
  return dataProblem(value.data);
}

function manifestProblem(value: unknown): string | undefined {
  if (!isObject(value)) return "not an object";
  switch (value.output_type) {
    case "stream":
      if (value.name !== "stdout" && value.name !== "stderr") return "stream name is not stdout or stderr";
      return refProblem(value.text);
    case "error":
      if (typeof value.ename !== "string" || typeof value.evalue !== "string") return "ename or evalue is not a string";
      return refProblem(value.traceback);
    case "execute_result":
      if (value.execution_count !== null && typeof value.execution_count !== "number") return "execution_count is not a number";
      return displayProblem(value);
    case "display_data":
      return displayProblem(value);
    default:
      return "unknown output_type";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
