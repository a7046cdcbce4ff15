import { encodeMessage, decodeMessage } from "../protocol/codec";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import type { FramedSocket } from "../protocol/framed-socket";
import { MAX_REQUEST_BYTES } from "../protocol/frame";
import { FrameType, decodeRoomRequest, type Broadcast, type Response, type RoomRequestBody } from "../protocol/messages";
import type { Logger } from "./logger";
import type { Room, RoomPeer } from "./room";

let nextPeerId = 1;

/**
 * One client's `notebook_sync` connection: routes its frames into its room and sends the
 * room's sync messages, responses and broadcasts back. Bad frames close this connection only.
 */
export class ClientConnection implements RoomPeer {
  readonly peerId = nextPeerId++;

  constructor(
    private readonly socket: FramedSocket,
    private readonly room: Room,
    private readonly logger: Logger,
  ) {}

  sendSync(message: Uint8Array): void {
    this.socket.sendTyped(FrameType.Sync, message);
  }

  sendBroadcast(message: Broadcast): void {
    this.socket.sendTyped(FrameType.Broadcast, encodeMessage(message));
  }

  /** Handles one typed frame from the client. */
  receive(frame: Buffer): void {
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
    if (payload.length > MAX_REQUEST_BYTES) {
      return this.reject(new RuntimedError("PROTOCOL", `Request of ${payload.length} bytes exceeds the ${MAX_REQUEST_BYTES}-byte limit`));
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

  private respond(response: Response): void {
    this.socket.sendTyped(FrameType.Response, encodeMessage(response));
  }

  private reject(error: RuntimedError): void {
    this.logger.warn("closing client connection after a bad frame", { notebook_id: this.room.notebookId, error: error.message });
    this.respond({ id: -1, result: "error", error: error.toWire() });
    this.socket.close();
  }
}
