/**
 * nbformat's multiline strings (`nbformat.v4.rwbase`): on write, sources, stream text and text
 * MIME values become lists of lines (`split_lines`); on read they are joined again
 * (`rejoin_lines`). JSON MIME values are data and are never touched.
 */
import type { JsonObject, JsonValue } from "./ipynb-json";

// Python's str.splitlines() line boundaries, `\r\n` counting as one.
const LINE = /[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*(?:\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])?/g;
// Non-`text/` types nbformat splits anyway.
const SPLIT_NON_TEXT = new Set(["application/javascript", "image/svg+xml"]);

/** Python's `text.splitlines(True)`: lines with their endings; `""` gives `[]`. */
export function splitLines(text: string): string[] {
  const lines = text.match(LINE) ?? [];
  // The pattern also matches the empty string at the very end.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** A multiline string as one string (a list of lines is joined; anything else is itself). */
export function joinLines(value: JsonValue | undefined): JsonValue | undefined {
  return isStringList(value) ? value.join("") : value;
}

/** nbformat's `_is_json_mime`: `application/json` or `application/*+json`. */
export function isJsonMime(mimeType: string): boolean {
  return mimeType === "application/json" || (mimeType.startsWith("application/") && mimeType.endsWith("+json"));
}

/** A copy of a MIME bundle with text values split into lines, as nbformat writes them. */
export function splitMimeBundle(bundle: JsonObject): JsonObject {
  const split: JsonObject = { ...bundle };
  for (const [mimeType, value] of Object.entries(bundle)) {
    if (typeof value === "string" && (mimeType.startsWith("text/") || SPLIT_NON_TEXT.has(mimeType))) {
      split[mimeType] = splitLines(value);
    }
  }
  return split;
}

/** A copy of a MIME bundle with line lists joined, as nbformat reads them. */
export function rejoinMimeBundle(bundle: JsonObject): JsonObject {
  const joined: JsonObject = { ...bundle };
  for (const [mimeType, value] of Object.entries(bundle)) {
    if (!isJsonMime(mimeType) && isStringList(value)) joined[mimeType] = value.join("");
  }
  return joined;
}

/** A copy of an output with its multiline strings split, as nbformat writes it. */
export function splitOutput(output: JsonObject): JsonObject {
  return mapOutputText(output, splitMimeBundle, (text) => (typeof text === "string" ? splitLines(text) : text));
}

/** A copy of an output with its multiline strings joined, as nbformat reads it. */
export function rejoinOutput(output: JsonObject): JsonObject {
  return mapOutputText(output, rejoinMimeBundle, (text) => joinLines(text));
}

/** A copy of a cell's attachments (name → MIME bundle) with each bundle mapped. */
export function mapAttachments(attachments: JsonValue | undefined, map: (bundle: JsonObject) => JsonObject): JsonValue | undefined {
  if (!isObject(attachments)) return attachments;
  const mapped: JsonObject = {};
  for (const [name, bundle] of Object.entries(attachments)) mapped[name] = isObject(bundle) ? map(bundle) : bundle;
  return mapped;
}

function mapOutputText(
  output: JsonObject,
  mapBundle: (bundle: JsonObject) => JsonObject,
  mapText: (text: JsonValue | undefined) => JsonValue | undefined,
): JsonObject {
  const mapped: JsonObject = { ...output };
  const type = output.output_type;
  if ((type === "execute_result" || type === "display_data") && isObject(output.data)) {
    mapped.data = mapBundle(output.data);
  } else if (type === "stream" && output.text !== undefined) {
    mapped.text = mapText(output.text)!;
  }
  return mapped;
}

/** Whether a value is a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}
