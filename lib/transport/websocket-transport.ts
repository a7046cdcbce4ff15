import { RuntimedError } from "../protocol/errors";
import type { Handshake } from "../protocol/messages";
import type { BlobReader, RoomTransport } from "../session/platform";
import { BlobFetcher } from "./blob-fetcher";
import { DaemonConnection } from "./daemon-connection";
import { httpBaseUrl, openWebSocketPipe, type WebSocketFactory } from "./websocket-pipe";

/** A daemon on the network: its URL and token (`runtimed daemon status` shows both). */
export interface WebSocketAddress {
  /** `http://host:port/` (or `ws://…`, `https://…`, `wss://…`). */
  url: string;
  /** The daemon's token; omit it in a page the daemon served (its cookie is used). */
  token?: string;
  create: WebSocketFactory;
}

/**
 * Reaches a room through the daemon's network face: the protocol over a WebSocket, output blobs
 * over HTTP (`/blob/<sha256>`), both with the daemon's token. Never starts a daemon.
 */
export function webSocketTransport(address: WebSocketAddress): RoomTransport {
  const base = httpBaseUrl(address.url);
  const fetcher = new BlobFetcher(base, { token: address.token });
  const blobs: BlobReader = {
    readSync: (hash) => fetcher.peek(hash),
    read: (hash) => fetcher.get(hash),
    close: () => fetcher.close(),
  };
  return {
    where: base,
    blobs,
    async open(handshake: Handshake): Promise<DaemonConnection> {
      const pipe = await openWebSocketPipe(address.url, { token: address.token, create: address.create });
      return DaemonConnection.handshake(pipe, handshake, { where: base });
    },
  };
}

/** The error for a session that needs a URL in a runtime without Unix sockets. */
export function needsUrl(): RuntimedError {
  return new RuntimedError(
    "BAD_REQUEST",
    "In this runtime a Session reaches the daemon over the network: pass `url` and `token` (see `npx runtimed daemon status`)",
  );
}
