import * as fs from "node:fs";
import { decodeManifest, fromManifestSync } from "../outputs/manifest";
import { RuntimedError } from "../protocol/errors";
import { blobFilePath } from "../protocol/paths";
import type { Output } from "./types";

/**
 * Turns output manifests (from the document or a broadcast) into the plain nbformat outputs
 * users get. Payloads in the daemon's blob store are read from its files: this client runs on
 * the daemon's machine (it reached it over a Unix socket), and reads stay synchronous.
 */
export class OutputDecoder {
  private blobDir: string | null = null;

  /** Where the daemon keeps blobs (from the handshake). */
  useBlobDir(blobDir: string | null): void {
    this.blobDir = blobDir;
  }

  decode(encoded: string): Output {
    return fromManifestSync(decodeManifest(encoded), (hash) => this.readBlob(hash));
  }

  private readBlob(hash: string): Uint8Array {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new RuntimedError("PROTOCOL", `Malformed blob hash ${JSON.stringify(hash)} in an output manifest`);
    if (!this.blobDir) {
      throw new RuntimedError("NOT_CONNECTED", `Output blob ${hash} can only be read once the session has connected to the daemon`);
    }
    try {
      return fs.readFileSync(blobFilePath(this.blobDir, hash));
    } catch (error) {
      throw new RuntimedError("PROTOCOL", `Output blob ${hash} is missing from the daemon's blob store (${(error as Error).message})`);
    }
  }
}
