import type { RuntimedError } from "../protocol/errors";
import type { FrameType } from "../protocol/messages";

/**
 * A connection that carries whole frames of the runtimed protocol, whatever carries them: a Unix
 * socket (length-prefixed frames, see `FramedSocket`) or a WebSocket (one binary message per
 * frame). Both ends of the protocol speak through it, the way automerge-repo's network adapters
 * hide their transports.
 */
export interface FramePipe {
  /** Sends one untyped frame (the handshake and its reply). */
  send(payload: Uint8Array): void;
  /** Sends one frame that starts with a type byte; throws PROTOCOL when it is over the frame limit. */
  sendTyped(type: FrameType, payload: Uint8Array): void;
  /** Ends the connection after what was sent. */
  close(): void;
  /** Each frame received, in order. */
  onFrame: (frame: Uint8Array) => void;
  /** Why the connection is about to close (a frame that broke the rules, a failed transport). */
  onError: (error: RuntimedError) => void;
  /** The connection is gone (called once). */
  onClose: () => void;
}

/** The daemon's side of a connection: a pipe with flow control and limits it can adjust. */
export interface ServerPipe extends FramePipe {
  /** The largest frame accepted from now on (raised after the handshake). */
  maxFrameBytes: number;
  /** A peer with more unread bytes than this that takes nothing for a while is dropped. */
  maxBacklogBytes: number;
  /** Bytes sent but not yet taken by the peer. */
  readonly backlog: number;
  /** Calls `listener` whenever the backlog has drained. */
  onDrain(listener: () => void): void;
  /** Ends the connection after what was sent; a peer that has not read it within `graceMs` is cut off. */
  close(graceMs?: number): void;
  /** Resolves once the connection is gone. */
  readonly ended: Promise<void>;
  /** Ends the connection at once. */
  destroy(): void;
}
