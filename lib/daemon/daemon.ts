import * as fs from "node:fs";
import type { IncomingMessage } from "node:http";
import * as net from "node:net";
import type { WebSocket } from "ws";
import { decodeMessage, encodeMessage } from "../protocol/codec";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import { FramedSocket } from "../transport/framed-socket";
import { MAX_FRAME_BYTES, MAX_REQUEST_BYTES } from "../protocol/frame";
import {
  FrameType,
  PROTOCOL_VERSION,
  decodeHandshake,
  decodePoolRequest,
  type DaemonStatus,
  type HandshakeReply,
  type PoolRequestBody,
  type Response,
  type ResponseData,
} from "../protocol/messages";
import { daemonFiles, defaultCacheDir, defaultSocketPath } from "../transport/paths";
import { clearStopMark, markStoppedOnPurpose } from "../transport/stop-marker";
import { PACKAGE_VERSION } from "../protocol/version";
import { gatewayConfigFromEnv, resolveGatewayConfig, type GatewayOptions } from "../gateway/gateway-config";
import { BlobStore } from "./blob-store";
import { ClientConnection } from "./client-connection";
import { PEER_BACKLOG_BYTES } from "./peer-outbox";
import { BlobCollector } from "./blob-collector";
import { clearStaleSocket, removeDaemonFiles, writeDaemonInfo } from "./daemon-files";
import { DaemonLock } from "./daemon-lock";
import { HttpFace } from "./http-face";
import { WebSocketLink } from "./websocket-link";
import type { ServerPipe } from "../transport/frame-pipe";
import { KernelProvider } from "./kernel-provider";
import { Logger } from "./logger";
import { Room } from "./room";
import { RoomKernel } from "./room-kernel";
import { RoomStore } from "./room-store";

/** How to run a daemon. Everything defaults to the environment's cache dir and socket. */
export interface DaemonOptions {
  cacheDir?: string;
  socketPath?: string;
  /** Delay between a document change and its save to disk (default 500 ms). */
  saveDelayMs?: number;
  /** Log level (default `RUNTIMED_LOG` or "info"). */
  logLevel?: string;
  /**
   * A room with no client and nothing running is unloaded after this long: its kernel is shut
   * down, its document stays on disk (default `RUNTIMED_ROOM_IDLE_SECS`, else 300).
   */
  roomIdleSecs?: number;
  /**
   * Unreferenced blobs younger than this are never collected (default
   * `RUNTIMED_BLOB_GRACE_SECS`, else 600); see {@link BlobCollector}.
   */
  blobGraceSecs?: number;
  /** Time between background blob collections (default `RUNTIMED_BLOB_GC_INTERVAL_SECS`, else 3600; 0: none). */
  blobCollectIntervalSecs?: number;
  /** The network face's address (default `RUNTIMED_HOST`, else 127.0.0.1). Beyond loopback, a warning is logged. */
  host?: string;
  /** The network face's port (default `RUNTIMED_PORT`, else 0: any free port). */
  port?: number;
  /** Web origins whose pages may open the WebSocket, besides the daemon's own page (default `RUNTIMED_ALLOW_ORIGIN`, comma-separated). */
  allowOrigins?: string[];
  /** The built web page's directory (default `dist/page/`). */
  pageDir?: string;
  /**
   * A Jupyter Server / Enterprise Gateway to start kernels on; default from `JUPYTER_GATEWAY_URL`
   * (and the other `JUPYTER_GATEWAY_*` variables); false for none.
   */
  gateway?: GatewayOptions | false;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a stopping daemon lets each client read what was sent to it before cutting it off. */
const STOP_DRAIN_MS = 10_000;
// A client that lets this much pile up unread, and does not drain it within seconds, is
// dropped; it reconnects and re-syncs from the document.
// (Each room peer's outbox keeps its backlog near PEER_BACKLOG_BYTES while it reads at all.)
const MAX_CLIENT_BACKLOG_BYTES = PEER_BACKLOG_BYTES;

/**
 * The runtimed daemon: owns notebook rooms and their kernels, serves clients on a Unix socket.
 * Run it in-process with `Daemon.start()` (tests, embedding) or detached with `runtimed daemon`.
 */
export class Daemon {
  private readonly rooms = new Map<string, Room>();
  private readonly sockets = new Set<ServerPipe>();
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  private readonly stoppedPromise: Promise<void>;
  private resolveStopped!: () => void;

  private constructor(
    readonly socketPath: string,
    readonly cacheDir: string,
    private readonly server: net.Server,
    private readonly logger: Logger,
    private readonly store: RoomStore,
    private readonly provider: KernelProvider,
    private readonly blobs: BlobStore,
    private readonly face: HttpFace,
    private readonly options: DaemonOptions,
    private readonly lock: DaemonLock,
  ) {
    this.stoppedPromise = new Promise((resolve) => (this.resolveStopped = resolve));
    lock.onEvent = (level, message, fields) => logger[level](message, fields);
    this.collector = new BlobCollector({
      blobDir: blobs.directory,
      documentsDir: daemonFiles(cacheDir).notebookDocs,
      loadedDocuments: () =>
        [...this.rooms.values()].map((room) => {
          room.flushWrites();
          return room.document.doc;
        }),
      tempFilesInUse: () => blobs.tempFilesInUse,
      logger,
      graceSecs: options.blobGraceSecs,
      intervalSecs: options.blobCollectIntervalSecs,
    });
    const idleSecs = options.roomIdleSecs ?? Number(process.env.RUNTIMED_ROOM_IDLE_SECS ?? 300);
    this.roomIdleMs = Number.isFinite(idleSecs) && idleSecs >= 0 ? idleSecs * 1000 : 300_000;
    this.sweepTimer = setInterval(() => this.unloadIdleRooms(), Math.max(50, Math.min(this.roomIdleMs / 4, 30_000)));
    this.sweepTimer.unref();
  }

  private readonly roomIdleMs: number;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly unloading = new Set<Promise<void>>();
  private readonly collector: BlobCollector;

  /** Unloads rooms that have been idle for longer than the configured time. */
  private unloadIdleRooms(): void {
    const now = Date.now();
    for (const [notebookId, room] of this.rooms) {
      if (!room.isIdle || now - room.lastActive < this.roomIdleMs) continue;
      this.rooms.delete(notebookId);
      this.logger.info("unloading idle room", { notebook_id: notebookId });
      const closing = room.close().finally(() => this.unloading.delete(closing));
      this.unloading.add(closing);
    }
  }

  /** Starts a daemon; rejects with DAEMON_RUNNING when another one serves this socket. */
  static async start(options: DaemonOptions = {}): Promise<Daemon> {
    const cacheDir = options.cacheDir ?? defaultCacheDir();
    const socketPath = options.socketPath ?? (options.cacheDir ? daemonFiles(cacheDir).cacheDir + "/runtimed.sock" : defaultSocketPath());
    const files = daemonFiles(cacheDir);
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(cacheDir, 0o700);
    const lock = await DaemonLock.acquire(files, socketPath);
    let logger: Logger | undefined;
    let face: HttpFace | undefined;
    try {
      await clearStaleSocket(socketPath);
      for (const dir of [files.notebookDocs, files.kernels, files.envs, files.blobs]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      logger = new Logger(files.log, options.logLevel);
      const store = new RoomStore(files.notebookDocs, logger);
      const gateway = options.gateway === undefined ? gatewayConfigFromEnv(process.env) : options.gateway ? resolveGatewayConfig(options.gateway) : undefined;
      const provider = new KernelProvider({ kernelsDir: files.kernels, envsCacheDir: cacheDir, logger, gateway });
      const blobs = new BlobStore(files.blobs);
      let daemon: Daemon | undefined;
      face = await HttpFace.start({
        host: options.host,
        port: options.port,
        allowOrigins: options.allowOrigins,
        pageDir: options.pageDir,
        blobs,
        logger,
        listRooms: () => (daemon ? [...daemon.rooms.values()].map((room) => room.summary()) : []),
        onWebSocket: (socket, request) => (daemon ? daemon.acceptWebSocket(socket, request) : socket.close(1013, "The daemon is starting")),
      });
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        // 0600 from the first moment: no window where another user could connect. The socket
        // file is made inside listen(), synchronously; the umask is the whole process's, so it
        // is restored right there, whether listen succeeds, fails or throws.
        const previousUmask = process.umask(0o177);
        try {
          server.listen(socketPath, () => {
            server.off("error", reject);
            resolve();
          });
        } finally {
          process.umask(previousUmask);
        }
      });
      fs.chmodSync(socketPath, 0o600);
      clearStopMark(cacheDir);
      daemon = new Daemon(socketPath, cacheDir, server, logger, store, provider, blobs, face, options, lock);
      server.on("connection", (socket) => daemon.accept(socket));
      writeDaemonInfo(files, {
        endpoint: socketPath,
        pid: process.pid,
        version: PACKAGE_VERSION,
        protocol: PROTOCOL_VERSION,
        started_at: new Date(daemon.startedAt).toISOString(),
        host: face.host,
        port: face.port,
        url: face.url,
        token: face.token,
      });
      provider.start();
      daemon.collector.start();
      logger.info("daemon started", { socket: socketPath, pid: process.pid, version: PACKAGE_VERSION, gateway: gateway?.url ?? null });
      return daemon;
    } catch (error) {
      await face?.close();
      logger?.close();
      await lock.close();
      throw error;
    }
  }

  /** Resolves once the daemon has stopped (by `stop()` or a client's `shutdown`). */
  get stopped(): Promise<void> {
    return this.stoppedPromise;
  }

  /**
   * Stops serving: shuts every kernel down, saves every room, removes the socket. A stop on
   * purpose (the default: `runtimed daemon stop`, a signal, `Daemon.stop()`) tells clients so,
   * and their sessions do not start the daemon again; after a crash (`onPurpose: false`) they
   * reconnect and restart it as after any other unexpected drop.
   */
  stop(options: { onPurpose?: boolean } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.onPurpose ?? true);
    return this.stopping;
  }

  status(): DaemonStatus {
    return {
      version: PACKAGE_VERSION,
      protocol: PROTOCOL_VERSION,
      pid: process.pid,
      uptime_secs: (Date.now() - this.startedAt) / 1000,
      socket_path: this.socketPath,
      cache_dir: this.cacheDir,
      rooms: [...this.rooms.values()].map((room) => room.summary()),
      pool: this.provider.poolContents(),
      host: this.face.host,
      url: this.face.url,
      token: this.face.token,
    };
  }

  /** A client on the network face (its token, Host and Origin already checked): the same protocol as the socket. */
  private acceptWebSocket(socket: WebSocket, _request: IncomingMessage): void {
    if (this.stopping) return void socket.terminate();
    this.acceptPipe(new WebSocketLink(socket, MAX_REQUEST_BYTES), { remote: true });
  }

  private async shutdown(onPurpose: boolean): Promise<void> {
    this.logger.info("daemon stopping", { on_purpose: onPurpose });
    if (onPurpose) {
      try {
        markStoppedOnPurpose(this.cacheDir, this.socketPath);
      } catch (error) {
        this.logger.warn("could not leave the stop mark; a client that misses the stop notice may start a daemon again", { error: (error as Error).message });
      }
    }
    clearInterval(this.sweepTimer);
    await this.collector.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Clients hear that this stop is on purpose, then how their executions ended, then the close.
    if (onPurpose) for (const room of this.rooms.values()) room.announceStop("The runtimed daemon was stopped on purpose");
    const rooms = Promise.all([...this.rooms.values()].map((room) => room.close()));
    // A client busy elsewhere may read what is already written for it (the stop notice sits
    // behind it) seconds later: it gets that long before its connection is cut.
    const sockets = [...this.sockets];
    for (const socket of sockets) socket.close(STOP_DRAIN_MS);
    await rooms;
    await Promise.all(this.unloading);
    this.rooms.clear();
    await this.provider.close();
    await this.face.close();
    await Promise.all(sockets.map((socket) => socket.ended));
    await closed;
    removeDaemonFiles(daemonFiles(this.cacheDir), this.socketPath, this.lock.held);
    await this.lock.close();
    this.logger.info("daemon stopped");
    this.logger.close();
    this.resolveStopped();
  }

  private accept(raw: net.Socket): void {
    if (this.stopping) return void raw.destroy();
    // Until the handshake, nothing bigger than a handshake is buffered for a client.
    this.acceptPipe(new FramedSocket(raw, MAX_REQUEST_BYTES), { remote: false });
  }

  /** Serves one client connection, whatever carries it: a handshake, then its channel. */
  private acceptPipe(socket: ServerPipe, how: { remote: boolean }): void {
    socket.maxBacklogBytes = MAX_CLIENT_BACKLOG_BYTES;
    this.sockets.add(socket);
    let handshaken = false;
    const timer = setTimeout(() => socket.close(), HANDSHAKE_TIMEOUT_MS);
    socket.onClose = () => {
      clearTimeout(timer);
      this.sockets.delete(socket);
    };
    socket.onError = (error) => this.logger.warn("bad frame from a client", { error: error.message });
    socket.onFrame = (frame) => {
      if (handshaken) return;
      handshaken = true;
      clearTimeout(timer);
      this.handshake(socket, frame, how);
    };
  }

  private handshake(socket: ServerPipe, frame: Uint8Array, how: { remote: boolean }): void {
    const reply = (message: HandshakeReply) => socket.send(encodeMessage(message));
    try {
      if (frame.length > MAX_REQUEST_BYTES) throw new RuntimedError("PROTOCOL", `Handshake of ${frame.length} bytes exceeds ${MAX_REQUEST_BYTES}`);
      const handshake = decodeHandshake(decodeMessage(frame));
      if (handshake.protocol !== PROTOCOL_VERSION) {
        throw new RuntimedError(
          "PROTOCOL",
          `Protocol mismatch: the client speaks version ${handshake.protocol}, this daemon (runtimed ${PACKAGE_VERSION}) speaks version ${PROTOCOL_VERSION}; restart the daemon with \`npx runtimed daemon stop\` so a matching one starts`,
        );
      }
      if (handshake.channel === "notebook_sync") {
        const room = this.room(handshake.notebook_id);
        const connection = new ClientConnection(socket, room, this.logger);
        reply({
          ok: true,
          protocol: PROTOCOL_VERSION,
          daemon_version: PACKAGE_VERSION,
          heads: room.document.heads,
          blob_port: this.face.port,
          // Only a client on this machine can read blob files; a remote one uses /blob/<hash>.
          blob_dir: how.remote ? null : this.blobs.directory,
        });
        socket.maxFrameBytes = MAX_FRAME_BYTES;
        socket.onFrame = (next) => connection.receive(next);
        const closeHandler = socket.onClose;
        socket.onClose = () => {
          closeHandler();
          connection.closed();
          room.leave(connection);
        };
        room.join(connection);
        return;
      }
      if (handshake.channel === "pool") {
        reply({ ok: true, protocol: PROTOCOL_VERSION, daemon_version: PACKAGE_VERSION });
        socket.maxFrameBytes = MAX_REQUEST_BYTES + 1;
        socket.onFrame = (next) => this.poolFrame(socket, next);
        return;
      }
      throw new RuntimedError("PROTOCOL", `The ${handshake.channel} channel is not served by this daemon`);
    } catch (error) {
      const failure = toRuntimedError(error, "PROTOCOL");
      this.logger.warn("handshake refused", { error: failure.message });
      reply({ ok: false, error: failure.toWire() });
      socket.close();
    }
  }

  private poolFrame(socket: ServerPipe, frame: Uint8Array): void {
    const respond = (response: Response) => socket.sendTyped(FrameType.Response, encodeMessage(response));
    if (frame[0] !== FrameType.Request || frame.length - 1 > MAX_REQUEST_BYTES) {
      respond({ id: -1, result: "error", error: { code: "PROTOCOL", message: "Expected a request frame of at most 64 KiB" } });
      return socket.close();
    }
    let request: PoolRequestBody & { id: number };
    try {
      request = decodePoolRequest(decodeMessage(frame.subarray(1)));
    } catch (error) {
      const id = (error as { requestId?: number }).requestId;
      respond({ id: id ?? -1, result: "error", error: toRuntimedError(error, "PROTOCOL").toWire() });
      if (id === undefined) socket.close();
      return;
    }
    this.servePool(request).then(
      (data) => respond({ id: request.id, result: "ok", data }),
      (error: unknown) => respond({ id: request.id, result: "error", error: toRuntimedError(error).toWire() }),
    );
  }

  private async servePool(request: PoolRequestBody): Promise<ResponseData[PoolRequestBody["action"]]> {
    switch (request.action) {
      case "ping":
        return { pong: true };
      case "status":
        return { ...this.status(), gateway: await this.provider.gatewayStatus() };
      case "list_rooms":
        return { rooms: [...this.rooms.values()].map((room) => room.summary()) };
      case "flush_pool":
        await this.provider.flushPool();
        return {};
      case "collect_garbage": {
        const report = await this.collector.collect(request.grace_secs ?? undefined);
        return { removed: report.removed, freed_bytes: report.freedBytes, kept: report.kept, skipped: report.skipped };
      }
      case "shutdown":
        setImmediate(() => void this.stop());
        return {};
    }
  }

  private room(notebookId: string): Room {
    // A room still closing (unloaded a moment ago) has saved its document by the time a
    // new one loads it: Room.close() saves synchronously before it awaits the kernel.
    let room = this.rooms.get(notebookId);
    if (!room) {
      room = new Room(
        notebookId,
        { store: this.store, provider: this.provider, logger: this.logger, blobs: this.blobs, saveDelayMs: this.options.saveDelayMs },
        (host) => new RoomKernel(this.provider, host, this.logger),
      );
      this.rooms.set(notebookId, room);
    }
    return room;
  }
}
