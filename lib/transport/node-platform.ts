/**
 * What Node gives a Session: the Unix socket to a daemon on this machine (started on demand),
 * output blobs read from the daemon's files, WebSockets from `ws` (with the token in a header),
 * and absolute notebook paths. Registered by the `runtimed` entry.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { WebSocket } from "ws";
import { MAX_FRAME_BYTES } from "../protocol/frame";
import { RuntimedError } from "../protocol/errors";
import type { Handshake } from "../protocol/messages";
import { useSessionPlatform, type LocalDaemonOptions, type RoomTransport } from "../session/platform";
import { connectToDaemon } from "./connect";
import type { DaemonConnection } from "./daemon-connection";
import { blobFilePath, defaultCacheDir, defaultSocketPath } from "./paths";
import type { WebSocketLike } from "./websocket-pipe";

/** The daemon on this machine, over its Unix socket; blobs from its files. */
export function localTransport(options: LocalDaemonOptions): RoomTransport {
  const socketPath = options.socketPath ?? defaultSocketPath();
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  let blobDir: string | null = null;
  const readBlob = (hash: string): Uint8Array => {
    if (!blobDir) throw new RuntimedError("NOT_CONNECTED", `Output blob ${hash} can only be read once the session has connected to the daemon`);
    try {
      return fs.readFileSync(blobFilePath(blobDir, hash));
    } catch (error) {
      throw new RuntimedError("PROTOCOL", `Output blob ${hash} is missing from the daemon's blob store (${(error as Error).message})`);
    }
  };
  return {
    where: socketPath,
    blobs: { readSync: readBlob, read: async (hash) => readBlob(hash), close: () => undefined },
    async open(handshake: Handshake, openOptions: { reconnecting?: boolean } = {}): Promise<DaemonConnection> {
      const connection = await connectToDaemon({ socketPath, cacheDir, autoStart: options.autoStart, unlessStopped: openOptions.reconnecting }, handshake);
      blobDir = connection.blobs.dir;
      return connection;
    },
  };
}

/** A `ws` WebSocket that sends the token as `Authorization: token <T>` (never in the URL). */
function nodeWebSocket(url: string, token: string | undefined): WebSocketLike {
  return new WebSocket(url, {
    headers: token === undefined ? {} : { authorization: `token ${token}` },
    perMessageDeflate: false,
    maxPayload: MAX_FRAME_BYTES + 1,
  }) as unknown as WebSocketLike;
}

useSessionPlatform({ local: localTransport, webSocket: nodeWebSocket, resolvePath: (file) => path.resolve(file) });
