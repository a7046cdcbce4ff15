/**
 * Real HTTP and WebSocket clients for specs of the daemon's network face: requests go out with
 * the target and headers exactly as given, answers come back whole.
 */
import * as http from "node:http";
import { WebSocket } from "ws";

/** One HTTP answer, body included. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** Sends one request to 127.0.0.1:port (node sends `path` as is, without normalising it). */
export function httpRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: options.host ?? "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers, agent: options.agent ?? false, timeout: 15_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode!, headers: response.headers, body, text: body.toString("utf8") });
        });
        response.on("error", reject);
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error(`${path} timed out`)));
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** How a WebSocket attempt ended: open (close it when done) or refused with an HTTP status. */
export type WebSocketAttempt = { open: true; socket: WebSocket } | { open: false; status: number; body: string };

/** Opens a WebSocket; a refused upgrade resolves with the HTTP status instead of throwing. */
export function openWebSocket(url: string, options: { headers?: Record<string, string>; origin?: string } = {}): Promise<WebSocketAttempt> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: options.headers, origin: options.origin, handshakeTimeout: 15_000 });
    socket.once("open", () => resolve({ open: true, socket }));
    socket.once("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        resolve({ open: false, status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        socket.on("error", () => undefined);
        socket.terminate();
      });
    });
    socket.once("error", reject);
  });
}

/** Sends one message and resolves with the first message back. */
export function roundTrip(socket: WebSocket, message: Buffer | string): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    socket.once("message", (data, binary) => resolve({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), binary }));
    socket.once("error", reject);
    socket.send(message);
  });
}

/** Closes a WebSocket and waits until it is closed. */
export function closeWebSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once("close", () => resolve());
    socket.close();
  });
}
