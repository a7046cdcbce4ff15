import type { Handshake } from "../protocol/messages";
import type { DaemonConnection } from "../transport/daemon-connection";
import type { WebSocketFactory } from "../transport/websocket-pipe";

/** Reads output blobs: synchronously where it can (files on the daemon's machine), else over HTTP. */
export interface BlobReader {
  /** The bytes at once, or undefined when they must be fetched. */
  readSync(hash: string): Uint8Array | undefined;
  /** The bytes, fetched when need be. */
  read(hash: string): Promise<Uint8Array>;
  close(): void;
}

/**
 * How a session reaches its room: opening connections (a Unix socket on the daemon's machine,
 * a WebSocket elsewhere) and reading output blobs. One small interface, so the session does not
 * care which carries it — like automerge-repo's network adapters.
 */
export interface RoomTransport {
  /** Where the daemon is, for messages. */
  readonly where: string;
  /**
   * Opens a connection (starting a daemon where that is allowed) and completes `handshake`. After
   * a drop (`reconnecting`) it rejects with DAEMON_STOPPED, starting nothing, when it can tell the
   * daemon was stopped on purpose — a client too busy to read the daemon's notice learns it so.
   */
  open(handshake: Handshake, options?: { reconnecting?: boolean }): Promise<DaemonConnection>;
  readonly blobs: BlobReader;
}

/** Where a daemon on this machine is, and whether to start one. */
export interface LocalDaemonOptions {
  socketPath?: string;
  cacheDir?: string;
  autoStart?: boolean;
}

/** What the runtime provides: the entry points set it (`runtimed` for Node, `runtimed/browser`). */
export interface SessionPlatform {
  /** A transport to a daemon on this machine (Node: its Unix socket, starting it on demand). */
  local?(options: LocalDaemonOptions): RoomTransport;
  /** WebSockets for sessions given a `url` (browsers: the global class; Node 20: `ws`). */
  webSocket?: WebSocketFactory;
  /** Makes a notebook path absolute for `Session.open`/`save` (Node: `path.resolve`). */
  resolvePath?(file: string): string;
}

let platform: SessionPlatform = {};

/** Sets what this runtime provides (done once by each package entry). */
export function useSessionPlatform(next: SessionPlatform): void {
  platform = { ...platform, ...next };
}

/** What this runtime provides. */
export function sessionPlatform(): SessionPlatform {
  return platform;
}
