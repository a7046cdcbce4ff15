/**
 * runtimed for web pages: the same `Session` as in Node, reaching a daemon's network face over a
 * WebSocket (`url`, and the `token` unless the daemon served the page), with output blobs over
 * HTTP. Bundled as `runtimed/browser` (ESM, no Node built-ins).
 *
 * ```ts
 * import { Session } from "runtimed/browser";
 * const session = new Session({ url: "http://127.0.0.1:8765/", token, notebookId: "demo" });
 * const result = await session.run("print('hello')");
 * ```
 */
import { useSessionPlatform } from "./session/platform";
import { globalWebSocketFactory } from "./transport/websocket-pipe";

useSessionPlatform({ webSocket: globalWebSocketFactory() });

export * from "./client";
