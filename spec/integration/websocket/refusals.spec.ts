import { WebSocket } from "ws";
import { encodeMessage } from "../../../lib/protocol/codec";
import { PROTOCOL_VERSION } from "../../../lib/protocol/messages";
import { Session } from "../../../lib/session/session";
import type { WebSocketLike } from "../../../lib/transport/websocket-pipe";
import { expectCode, useTestDaemon } from "../harness";

const testDaemon = useTestDaemon();

function face(): { url: string; token: string; wsUrl: string } {
  const { url, token } = testDaemon().daemon.status();
  return { url, token, wsUrl: `${url.replace(/^http/, "ws")}ws` };
}

/** A raw `ws` client of the daemon (valid token); resolves once open. */
function rawClient(headers: Record<string, string> = {}): Promise<WebSocket> {
  const { wsUrl, token } = face();
  const socket = new WebSocket(wsUrl, { headers: { authorization: `token ${token}`, ...headers } });
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves with the close code once the daemon closes `socket` (fails the test after 10 s). */
function closedByDaemon(socket: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the daemon did not close the connection")), 10_000);
    socket.once("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("the WebSocket transport's refusals", () => {
  it("a wrong token fails connect() with UNAUTHORIZED", async () => {
    const session = new Session({ url: face().url, token: "0".repeat(64), notebookId: "refusals" });
    const error = await expectCode(session.connect(), "UNAUTHORIZED");
    expect(error.message).toContain("refused the token");
    await session.close();
  });

  it("no token at all fails connect() with UNAUTHORIZED", async () => {
    const session = new Session({ url: face().url, notebookId: "refusals" });
    await expectCode(session.connect(), "UNAUTHORIZED");
    await session.close();
  });

  it("a page of another origin cannot open the WebSocket, even with the token (FORBIDDEN)", async () => {
    const webSocket = (url: string, token: string | undefined): WebSocketLike =>
      new WebSocket(url, { headers: { authorization: `token ${token}`, origin: "http://evil.example" } }) as unknown as WebSocketLike;
    const session = new Session({ url: face().url, token: face().token, notebookId: "refusals", webSocket });
    const error = await expectCode(session.connect(), "FORBIDDEN");
    expect(error.message).toContain("--allow-origin");
    await session.close();
  });

  it("malformed WebSocket frames close only that connection; a session in the same room keeps working", async () => {
    const good = testDaemon().session({ notebookId: "bystander", url: face().url, token: face().token });
    const cellId = good.createCell("print('unaffected')");
    await good.connect();

    // A text message is not a frame.
    const text = await rawClient();
    const textClosed = closedByDaemon(text);
    text.send("hello");
    await textClosed;

    // A handshake that is not msgpack gets a refusal and the close.
    const garbage = await rawClient();
    const garbageClosed = closedByDaemon(garbage);
    garbage.send(Buffer.from([0xc1, 0xff, 0x00]));
    await garbageClosed;

    // Nothing bigger than a handshake before the handshake.
    const big = await rawClient();
    const bigClosed = closedByDaemon(big);
    big.send(Buffer.alloc(200 * 1024, 0x61));
    await bigClosed;

    // After a valid handshake, an unknown frame type.
    const unknown = await rawClient();
    const unknownClosed = closedByDaemon(unknown);
    unknown.send(encodeMessage({ channel: "notebook_sync", notebook_id: "bystander", protocol: PROTOCOL_VERSION }));
    unknown.send(Buffer.from([0x07, 1, 2, 3]));
    await unknownClosed;

    const result = await good.executeCell(cellId);
    expect(result.stdout).toBe("unaffected\n");
    expect(good.isConnected).toBe(true);
  });
});
