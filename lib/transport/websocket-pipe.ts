import { RuntimedError } from "../protocol/errors";
import { MAX_FRAME_BYTES } from "../protocol/frame";
import type { FrameType } from "../protocol/messages";
import type { FramePipe } from "./frame-pipe";

/** What the pipe needs of a WebSocket: the browser's class, and `ws` in Node, both have it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
}

/** Makes a WebSocket to `url` that presents `token` (a header where the runtime can, else the URL). */
export type WebSocketFactory = (url: string, token: string | undefined) => WebSocketLike;

/** A factory over the runtime's own WebSocket class (browsers): the token goes in the URL. */
export function globalWebSocketFactory(): WebSocketFactory | undefined {
  const WebSocketClass = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!WebSocketClass) return undefined;
  return (url, token) => new WebSocketClass(token === undefined ? url : withQuery(url, "token", token));
}

/** The daemon's WebSocket URL for a daemon URL (`http://host:port/`, `ws://host:port/`, with or without `/ws`). */
export function webSocketUrl(daemonUrl: string): string {
  const url = new URL(daemonUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  else if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new RuntimedError("BAD_REQUEST", `A daemon URL starts with http://, https://, ws:// or wss://; got ${daemonUrl}`);
  }
  if (!url.pathname.endsWith("/ws")) url.pathname = url.pathname.replace(/\/?$/, "/ws");
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** The daemon's HTTP base URL (for blobs and the API) for a daemon URL, ending in `/`. */
export function httpBaseUrl(daemonUrl: string): string {
  const url = new URL(daemonUrl);
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  url.pathname = url.pathname.replace(/\/ws$/, "/").replace(/\/?$/, "/");
  url.search = "";
  url.hash = "";
  return url.toString();
}

function withQuery(url: string, key: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(key, value);
  return parsed.toString();
}

/**
 * Opens a WebSocket to a daemon's network face and resolves with a frame pipe over it once it is
 * open: one binary message per frame. A refused token rejects with UNAUTHORIZED, a refused page
 * origin with FORBIDDEN, anything else with DAEMON_UNAVAILABLE naming the URL.
 */
export function openWebSocketPipe(daemonUrl: string, options: { token?: string; create: WebSocketFactory; timeoutMs?: number }): Promise<FramePipe> {
  const url = webSocketUrl(daemonUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = options.create(url, options.token);
    } catch (error) {
      reject(new RuntimedError("BAD_REQUEST", `Cannot open a WebSocket to ${url}: ${(error as Error).message}`));
      return;
    }
    socket.binaryType = "arraybuffer";
    let settled = false;
    const timer = setTimeout(() => fail(new RuntimedError("DAEMON_UNAVAILABLE", `No answer from the runtimed daemon at ${url} within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: RuntimedError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.onopen = socket.onerror = socket.onclose = null;
      try {
        socket.close();
      } catch {
        // not open
      }
      reject(error);
    };
    let failure: string | undefined;
    socket.onerror = (event) => {
      failure = (event as { message?: string }).message ?? failure;
    };
    socket.onclose = () => {
      // The browser tells nothing about a refused upgrade; `ws` says "Unexpected server response: 401".
      void explainRefusal(daemonUrl, options.token, failure).then(fail);
    };
    socket.onopen = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(new WebSocketPipe(socket));
    };
  });
}

/** Why an upgrade failed: asks the HTTP API with the same token when the transport did not say. */
async function explainRefusal(daemonUrl: string, token: string | undefined, failure: string | undefined): Promise<RuntimedError> {
  let status = /\b(401|403)\b/.exec(failure ?? "")?.[1];
  if (status === undefined && typeof fetch === "function") {
    try {
      const response = await fetch(`${httpBaseUrl(daemonUrl)}api/status`, {
        headers: token === undefined ? {} : { authorization: `token ${token}` },
        credentials: "same-origin",
      });
      if (response.status === 401 || response.status === 403) status = String(response.status);
    } catch {
      // nothing answers: unavailable
    }
  }
  if (status === "401") {
    return new RuntimedError("UNAUTHORIZED", `The runtimed daemon at ${httpBaseUrl(daemonUrl)} refused the token; see \`npx runtimed daemon status\` for the current one`);
  }
  if (status === "403") {
    return new RuntimedError(
      "FORBIDDEN",
      `The runtimed daemon at ${httpBaseUrl(daemonUrl)} refused this connection's origin or host; start it with --allow-origin <this page's origin>`,
    );
  }
  return new RuntimedError("DAEMON_UNAVAILABLE", `Cannot reach a runtimed daemon at ${httpBaseUrl(daemonUrl)}${failure ? ` (${failure})` : ""}; is it running? \`npx runtimed daemon status\``);
}

/** A frame pipe over an open WebSocket. */
class WebSocketPipe implements FramePipe {
  onFrame: (frame: Uint8Array) => void = () => {};
  onError: (error: RuntimedError) => void = () => {};
  onClose: () => void = () => {};
  private closed = false;

  constructor(private readonly socket: WebSocketLike) {
    socket.onmessage = (event) => {
      if (this.closed) return;
      const data = event.data;
      if (data instanceof ArrayBuffer) this.onFrame(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) this.onFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else {
        this.onError(new RuntimedError("PROTOCOL", "The daemon sent a text message; frames are binary"));
        this.close();
      }
    };
    socket.onerror = () => undefined;
    socket.onclose = () => this.finish();
  }

  send(payload: Uint8Array): void {
    if (!this.closed) this.socket.send(payload);
  }

  sendTyped(type: FrameType, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length + 1 > MAX_FRAME_BYTES) {
      throw new RuntimedError("PROTOCOL", `Frame of ${payload.length + 1} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
    }
    const frame = new Uint8Array(payload.length + 1);
    frame[0] = type;
    frame.set(payload, 1);
    this.socket.send(frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(1000);
  }

  private finish(): void {
    this.closed = true;
    const onClose = this.onClose;
    this.onClose = () => {};
    onClose();
  }
}
