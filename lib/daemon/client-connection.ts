import { encodeMessage, decodeMessage } from "../protocol/codec";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import { FrameType, decodeRoomRequest, type Response, type RoomRequestBody } from "../protocol/messages";
import type { Logger } from "./logger";
import { PeerOutbox, type StreamSource } from "./peer-outbox";
import type { Room, RoomPeer } from "./room";

let nextPeerId = 1;

/** One client's end of a connection, whatever carries it (Unix socket, WebSocket). */
export interface FrameLink {
  /** Sends a frame that starts with a type byte; throws when it is over the frame limit. */
  sendTyped(type: FrameType, payload: Uint8Array): void;
  /** Bytes sent but not yet taken by the peer. */
  readonly backlog: number;
  /** Calls `listener` whenever the backlog has drained. */
  onDrain(listener: () => void): void;
  /** Ends the connection after what was sent. */
  close(): void;
}

/**
 * One client's `notebook_sync` connection: routes its frames into its room and sends the
 * room's sync messages, responses and broadcasts back. Bad frames close this connection only;
 * a request of any size up to the frame limit is answered.
 */
export class ClientConnection implements RoomPeer {
  readonly peerId = nextPeerId++;
  private readonly outbox: PeerOutbox;

  constructor(
    private readonly socket: FrameLink,
    private readonly room: Room,
    private readonly logger: Logger,
  ) {
    this.outbox = new PeerOutbox(socket);
  }

  sendSync(message: Uint8Array): void {
    this.outbox.send(FrameType.Sync, message);
  }

  sendFrame(type: FrameType, payload: Uint8Array, key?: string): void {
    this.outbox.send(type, payload, key);
  }

  sendAhead(type: FrameType, payload: Uint8Array): void {
    this.socket.sendTyped(type, payload);
  }

  sendStream(source: StreamSource, offset: number, payload: Uint8Array): void {
    this.outbox.sendStream(source, offset, payload);
  }

  restate(source: StreamSource): void {
    this.outbox.restate(source);
  }

  /** The connection is gone: nothing more is queued for it. */
  closed(): void {
    this.outbox.close();
  }

  /** Handles one typed frame from the client. */
  receive(frame: Uint8Array): void {
    if (frame.length === 0) return this.reject(new RuntimedError("PROTOCOL", "Empty frame"));
    const type = frame[0];
    const payload = frame.subarray(1);
    if (type === FrameType.Sync) {
      try {
        this.room.receiveSync(this, payload);
      } catch (error) {
        this.reject(toRuntimedError(error, "PROTOCOL"));
      }
      return;
    }
    if (type !== FrameType.Request) {
      return this.reject(new RuntimedError("PROTOCOL", `Unexpected frame type 0x${(type ?? 0).toString(16)} from a client`));
    }
    let request: RoomRequestBody & { id: number };
    try {
      request = decodeRoomRequest(decodeMessage(payload));
    } catch (error) {
      const requestId = (error as { requestId?: number }).requestId;
      if (requestId !== undefined) return this.respond({ id: requestId, result: "error", error: toRuntimedError(error).toWire() });
      return this.reject(toRuntimedError(error, "PROTOCOL"));
    }
    this.room.handle(request).then(
      (data) => this.respond({ id: request.id, result: "ok", data }),
      (error: unknown) => this.respond({ id: request.id, result: "error", error: toRuntimedError(error).toWire() }),
    );
  }

  /** Responses skip the outbox: they are small, and a request should not wait behind a catch-up. */
  private respond(response: Response): void {
    try {
      this.socket.sendTyped(FrameType.Response, encodeMessage(response));
    } catch (error) {
      // An answer too large for a frame fails alone, as its request's error.
      const failure = toRuntimedError(error, "PROTOCOL");
      this.logger.warn("could not send a response", { notebook_id: this.room.notebookId, error: failure.message });
      this.socket.sendTyped(FrameType.Response, encodeMessage({ id: response.id, result: "error", error: failure.toWire() }));
    }
  }

  private reject(error: RuntimedError): void {
    this.logger.warn("closing client connection after a bad frame", { notebook_id: this.room.notebookId, error: error.message });
    this.respond({ id: -1, result: "error", error: error.toWire() });
    this.socket.close();
  }
}
