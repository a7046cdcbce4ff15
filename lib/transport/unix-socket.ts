import * as net from "node:net";
import { RuntimedError } from "../protocol/errors";
import type { Handshake } from "../protocol/messages";
import { DaemonConnection } from "./daemon-connection";
import { FramedSocket } from "./framed-socket";

/** One connection to a daemon over its Unix socket: where, and what to say first. */
export interface UnixConnectOptions {
  socketPath: string;
  handshake: Handshake;
  /** How long the daemon may take to answer the handshake (default 10 s). */
  timeoutMs?: number;
}

/**
 * Connects to a daemon's Unix socket (its file permissions are its authentication) and completes
 * the handshake; DAEMON_UNAVAILABLE when nothing answers there.
 */
export function openUnixConnection(options: UnixConnectOptions): Promise<DaemonConnection> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(options.socketPath);
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        new RuntimedError(
          "DAEMON_UNAVAILABLE",
          `No runtimed daemon at ${options.socketPath} (${error.code ?? error.message}); start one with \`npx runtimed daemon start\``,
        ),
      );
    raw.once("error", onError);
    raw.once("connect", () => {
      raw.off("error", onError);
      DaemonConnection.handshake(new FramedSocket(raw), options.handshake, { where: options.socketPath, timeoutMs: options.timeoutMs }).then(resolve, reject);
    });
  });
}
