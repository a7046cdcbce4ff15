import { Packr } from "msgpackr";
import { RuntimedError } from "./errors";

// Plain maps and arrays only: records and structured clones would tie both ends to msgpackr.
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

/** Encodes a protocol value as msgpack (a Node Buffer at run time in Node; typed as the bytes every runtime has). */
export function encodeMessage(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes msgpack bytes; the result is `unknown` until a decoder in messages.ts checks it. */
export function decodeMessage(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new RuntimedError("PROTOCOL", `Undecodable msgpack payload (${bytes.length} bytes): ${(error as Error).message}`);
  }
}
