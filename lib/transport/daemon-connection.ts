import { Observable, Subject } from "rxjs";
import { decodeMessage, encodeMessage } from "../protocol/codec";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import type { FramePipe } from "./frame-pipe";
import { MAX_FRAME_BYTES } from "../protocol/frame";
import { decodeStreamAppend } from "../protocol/stream-append";
import {
  FrameType,
  PROTOCOL_VERSION,
  decodeBroadcast,
  decodeHandshakeReply,
  decodeResponse,
  type Broadcast,
  type Handshake,
  type RequestBody,
  type ResponseData,
} from "../protocol/messages";

interface Pending {
  resolve(data: unknown): void;
  reject(error: RuntimedError): void;
}

/**
 * One open connection to a daemon after a successful handshake: requests matched to their
 * responses by id, broadcasts and Automerge sync messages as streams.
 */
export class DaemonConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly broadcastsSubject = new Subject<Broadcast>();
  private readonly syncSubject = new Subject<Uint8Array>();
  private readonly closedSubject = new Subject<RuntimedError | null>();
  private closedError: RuntimedError | null | undefined;
  private pipeClosed!: () => void;
  private readonly gone = new Promise<void>((resolve) => (this.pipeClosed = resolve));
  /** Frames that arrived before `start()`: the room's first broadcasts must not be lost. */
  private held: Uint8Array[] | null = [];

  /** Every broadcast of the room, in arrival order. */
  readonly broadcasts$: Observable<Broadcast> = this.broadcastsSubject.asObservable();
  /** Automerge sync messages from the daemon. */
  readonly sync$: Observable<Uint8Array> = this.syncSubject.asObservable();
  /** Emits once when the connection ends (null when closed on purpose). */
  readonly closed$: Observable<RuntimedError | null> = this.closedSubject.asObservable();

  private constructor(
    private readonly socket: FramePipe,
    readonly daemonVersion: string,
    /** The daemon's document heads at handshake time (notebook_sync only). */
    readonly initialHeads: string[],
    /** Where the daemon serves and keeps output blobs. */
    readonly blobs: { port: number | null; dir: string | null },
  ) {
    socket.onFrame = (frame) => (this.held && frame[0] !== FrameType.Response ? this.held.push(frame) : this.receive(frame));
    socket.onError = (error) => this.finish(error);
    socket.onClose = () => {
      this.finish(new RuntimedError("DAEMON_UNAVAILABLE", "The daemon closed the connection"));
      this.pipeClosed();
    };
  }

  /**
   * Sends `handshake` over an open pipe and resolves with the connection once the daemon accepts
   * it. A refusal rejects with the daemon's error; silence past `timeoutMs` with
   * DAEMON_UNAVAILABLE naming `where`. The pipe is closed on failure.
   */
  static handshake(pipe: FramePipe, handshake: Handshake, options: { where: string; timeoutMs?: number }): Promise<DaemonConnection> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: RuntimedError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        pipe.onClose = () => {};
        pipe.close();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new RuntimedError("DAEMON_UNAVAILABLE", `The daemon at ${options.where} did not answer the handshake within ${timeoutMs} ms`)),
        timeoutMs,
      );
      pipe.onError = (error) => fail(error);
      pipe.onClose = () => fail(new RuntimedError("DAEMON_UNAVAILABLE", `The daemon at ${options.where} closed the connection during the handshake`));
      pipe.onFrame = (frame) => {
        if (settled) return;
        try {
          const reply = decodeHandshakeReply(decodeMessage(frame));
          if (!reply.ok) throw RuntimedError.fromWire(reply.error);
          if (reply.protocol !== PROTOCOL_VERSION) {
            throw new RuntimedError(
              "PROTOCOL",
              `Protocol mismatch: this client speaks version ${PROTOCOL_VERSION}, the daemon (runtimed ${reply.daemon_version}) speaks version ${reply.protocol}`,
            );
          }
          settled = true;
          clearTimeout(timer);
          resolve(new DaemonConnection(pipe, reply.daemon_version, reply.heads ?? [], { port: reply.blob_port ?? null, dir: reply.blob_dir ?? null }));
        } catch (error) {
          fail(toRuntimedError(error, "PROTOCOL"));
        }
      };
      pipe.send(encodeMessage(handshake));
    });
  }

  /** Starts delivering frames to `sync$` and `broadcasts$`; call it after subscribing to them. */
  start(): void {
    const held = this.held;
    this.held = null;
    for (const frame of held ?? []) this.receive(frame);
  }

  get isOpen(): boolean {
    return this.closedError === undefined;
  }

  /** Sends a request and resolves with the daemon's answer (or rejects with its error). */
  request<A extends RequestBody["action"]>(body: Extract<RequestBody, { action: A }>): Promise<ResponseData[A]> {
    if (this.closedError !== undefined) {
      return Promise.reject(this.closedError ?? new RuntimedError("NOT_CONNECTED", "The connection to the daemon is closed"));
    }
    const id = this.nextId++;
    const payload = encodeMessage({ ...body, id });
    // Too large for one frame: this request fails alone, before anything is sent.
    if (payload.byteLength + 1 > MAX_FRAME_BYTES) {
      return Promise.reject(
        new RuntimedError("BAD_REQUEST", `The ${body.action} request is ${payload.byteLength} bytes, over the ${MAX_FRAME_BYTES}-byte frame limit`),
      );
    }
    return new Promise<ResponseData[A]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject });
      this.socket.sendTyped(FrameType.Request, payload);
    });
  }

  sendSync(message: Uint8Array): void {
    this.socket.sendTyped(FrameType.Sync, message);
  }

  /**
   * Closes the connection; resolves once it is gone both ways (so the daemon knows this client
   * left), or after a second at most.
   */
  close(): Promise<void> {
    this.socket.close();
    this.finish(null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([this.gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]).finally(() => clearTimeout(timer));
  }

  private receive(frame: Uint8Array): void {
    const type = frame[0];
    const payload = frame.subarray(1);
    try {
      if (type === FrameType.Sync) return this.syncSubject.next(payload);
      if (type === FrameType.Broadcast) return this.broadcastsSubject.next(decodeBroadcast(decodeMessage(payload)));
      if (type === FrameType.StreamAppend) return this.broadcastsSubject.next({ event: "stream_append", ...decodeStreamAppend(payload) });
      if (type === FrameType.Response) {
        const response = decodeResponse(decodeMessage(payload));
        const pending = this.pending.get(response.id);
        if (!pending) {
          // id -1: the daemon is telling us why it closes the connection.
          if (response.result === "error") this.finish(RuntimedError.fromWire(response.error));
          return;
        }
        this.pending.delete(response.id);
        if (response.result === "ok") pending.resolve(response.data);
        else pending.reject(RuntimedError.fromWire(response.error));
        return;
      }
      throw new RuntimedError("PROTOCOL", `Unexpected frame type ${type} from the daemon`);
    } catch (error) {
      this.finish(toRuntimedError(error, "PROTOCOL"));
      this.socket.close();
    }
  }

  private finish(error: RuntimedError | null): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    const failure = error ?? new RuntimedError("NOT_CONNECTED", "The connection to the daemon was closed");
    for (const pending of this.pending.values()) pending.reject(failure);
    this.pending.clear();
    this.closedSubject.next(error);
    this.closedSubject.complete();
    this.broadcastsSubject.complete();
    this.syncSubject.complete();
  }
}
