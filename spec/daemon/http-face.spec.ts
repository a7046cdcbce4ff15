import * as fs from "node:fs";
import type { IncomingMessage } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import type { WebSocket } from "ws";
import { BlobStore } from "../../lib/daemon/blob-store";
import { HttpFace, type HttpFaceOptions } from "../../lib/daemon/http-face";
import { Logger } from "../../lib/daemon/logger";
import type { RoomSummary } from "../../lib/protocol/messages";
import { PROTOCOL_VERSION } from "../../lib/protocol/messages";
import { PACKAGE_VERSION } from "../../lib/protocol/version";
import { freePort } from "../free-port";
import { closeWebSocket, httpRequest, openWebSocket, roundTrip } from "./face-client";

jest.setTimeout(60_000);

const INDEX_HTML = "<!doctype html><title>runtimed</title><script src=app.js></script>";
const ROOMS: RoomSummary[] = [{ notebook_id: "demo", clients: 2, kernel_status: "idle", env_source: "uv:prewarmed" }];

let root: string;
let store: BlobStore;
let pageDir: string;
const faces: HttpFace[] = [];
const accepted: IncomingMessage[] = [];

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-http-face-"));
  store = new BlobStore(path.join(root, "blobs"));
  pageDir = path.join(root, "page");
  fs.mkdirSync(path.join(pageDir, "assets"), { recursive: true });
  fs.writeFileSync(path.join(pageDir, "index.html"), INDEX_HTML);
  fs.writeFileSync(path.join(pageDir, "app.js"), "console.log('page');\n");
  fs.writeFileSync(path.join(pageDir, "assets", "style.css"), "body { margin: 0 }\n");
  fs.writeFileSync(path.join(pageDir, ".secret"), "dotfile");
  fs.writeFileSync(path.join(root, "outside.txt"), "outside the page");
  fs.symlinkSync(path.join(root, "outside.txt"), path.join(pageDir, "link.txt"));
});

afterEach(async () => {
  await Promise.all(faces.splice(0).map((face) => face.close()));
  accepted.length = 0;
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A face on loopback whose WebSockets echo every message back. */
async function startFace(options: Partial<HttpFaceOptions> = {}): Promise<HttpFace> {
  const face = await HttpFace.start({
    blobs: store,
    pageDir,
    env: {},
    listRooms: () => ROOMS,
    onWebSocket: (socket: WebSocket, request: IncomingMessage) => {
      accepted.push(request);
      socket.on("message", (data, binary) => socket.send(data, { binary }));
    },
    ...options,
  });
  faces.push(face);
  return face;
}

const auth = (face: HttpFace) => ({ authorization: `token ${face.token}` });

describe("HttpFace: the token", () => {
  it("is 256 random bits, new for every start", async () => {
    const [first, second] = [await startFace(), await startFace()];
    expect(first.token).toMatch(/^[0-9a-f]{64}$/);
    expect(second.token).not.toBe(first.token);
  });

  it("opens the page with ?token= and sets an HttpOnly, SameSite=Strict cookie named for the port", async () => {
    const face = await startFace();
    const page = await httpRequest(face.port, `/?token=${face.token}`);
    expect(page.status).toBe(200);
    expect(page.text).toBe(INDEX_HTML);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    const cookie = page.headers["set-cookie"]?.[0] ?? "";
    const [pair, ...attributes] = cookie.split(";").map((part) => part.trim());
    expect(pair).toBe(`runtimed-token-${face.port}=${face.token}`);
    expect(attributes.sort()).toEqual(["HttpOnly", "Path=/", "SameSite=Strict"]);
    expect(face.pageUrl).toBe(`http://127.0.0.1:${face.port}/?token=${face.token}`);
  });

  it("refuses every path without a token: 401 with a body that says nothing more", async () => {
    const face = await startFace();
    const hash = store.put(Buffer.from("private"), "text/plain");
    for (const target of ["/", "/index.html", "/app.js", "/api/rooms", "/api/status", `/blob/${hash}`, "/nowhere", "/ws", "/?token="]) {
      const answer = await httpRequest(face.port, target);
      expect({ target, status: answer.status, body: answer.text }).toEqual({ target, status: 401, body: "401 Unauthorized" });
      expect(answer.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("refuses a wrong token wherever it is presented, a token of another length included", async () => {
    const face = await startFace();
    const wrong = face.token.replace(/^./, (digit) => (digit === "0" ? "1" : "0"));
    const attempts = [
      { target: `/?token=${wrong}`, headers: {} },
      { target: `/?token=${face.token}0`, headers: {} },
      { target: `/?token=${face.token.slice(0, 10)}`, headers: {} },
      { target: "/", headers: { authorization: `token ${wrong}` } },
      { target: "/", headers: { authorization: face.token } },
      { target: "/", headers: { authorization: `Basic ${face.token}` } },
      { target: "/", headers: { cookie: `runtimed-token-${face.port}=${wrong}` } },
      { target: "/", headers: { cookie: `runtimed-token-${face.port + 1}=${face.token}` } },
    ];
    for (const { target, headers } of attempts) {
      const answer = await httpRequest(face.port, target, { headers });
      expect({ target, headers, status: answer.status, body: answer.text }).toEqual({ target, headers, status: 401, body: "401 Unauthorized" });
    }
  });

  it("accepts the Authorization header (token or Bearer scheme) and sets no cookie for it", async () => {
    const face = await startFace();
    for (const authorization of [`token ${face.token}`, `Bearer ${face.token}`, `TOKEN  ${face.token} `]) {
      const answer = await httpRequest(face.port, "/api/status", { headers: { authorization } });
      expect({ authorization, status: answer.status }).toEqual({ authorization, status: 200 });
      expect(answer.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("lets the page's cookie alone fetch blobs, the API and the page's assets", async () => {
    const face = await startFace();
    const page = await httpRequest(face.port, `/?token=${face.token}`);
    const cookie = page.headers["set-cookie"]![0]!.split(";")[0]!;
    const hash = store.put(Buffer.from("an image, say"), "image/png");
    const blob = await httpRequest(face.port, `/blob/${hash}`, { headers: { cookie: `theme=dark; ${cookie}` } });
    expect({ status: blob.status, type: blob.headers["content-type"], body: blob.text }).toEqual({ status: 200, type: "image/png", body: "an image, say" });
    const rooms = await httpRequest(face.port, "/api/rooms", { headers: { cookie } });
    expect(rooms.status).toBe(200);
    const asset = await httpRequest(face.port, "/assets/style.css", { headers: { cookie } });
    expect({ status: asset.status, type: asset.headers["content-type"], cache: asset.headers["cache-control"] }).toEqual({
      status: 200,
      type: "text/css; charset=utf-8",
      cache: "no-cache",
    });
    expect(asset.headers["set-cookie"]).toBeUndefined();
  });
});

describe("HttpFace: what it serves", () => {
  it("lists the daemon's rooms at /api/rooms and its version at /api/status, never cached", async () => {
    const face = await startFace();
    const rooms = await httpRequest(face.port, "/api/rooms", { headers: auth(face) });
    expect(rooms.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(rooms.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(rooms.text)).toEqual({ rooms: ROOMS });
    const status = await httpRequest(face.port, "/api/status", { headers: auth(face) });
    expect(JSON.parse(status.text)).toEqual({ name: "runtimed", version: PACKAGE_VERSION, protocol: PROTOCOL_VERSION });
    expect((await httpRequest(face.port, "/api/other", { headers: auth(face) })).status).toBe(404);
  });

  it("serves only files inside the page directory: no traversal, dotfiles, symlinks out or listings", async () => {
    const face = await startFace();
    expect((await httpRequest(face.port, "/app.js", { headers: auth(face) })).headers["content-type"]).toBe("text/javascript; charset=utf-8");
    const attempts = [
      "/../outside.txt",
      "/..%2foutside.txt",
      "/%2e%2e/outside.txt",
      "/assets/../../outside.txt",
      "/assets/%2e%2e%2f%2e%2e%2foutside.txt",
      "/link.txt",
      "/.secret",
      "/%2esecret",
      "/assets",
      "/assets/",
      "//app.js",
      "/app.js%00.html",
      "/%E0%A4%A",
      "/assets\\..\\..\\outside.txt",
    ];
    for (const target of attempts) {
      const answer = await httpRequest(face.port, target, { headers: auth(face) });
      expect({ target, status: answer.status }).toEqual({ target, status: 404 });
      expect(answer.text).not.toContain("outside the page");
      expect(answer.text).not.toContain("dotfile");
    }
  });

  it("answers 404 for the page when its directory does not exist", async () => {
    const face = await startFace({ pageDir: path.join(root, "no-such-page") });
    expect((await httpRequest(face.port, "/", { headers: auth(face) })).status).toBe(404);
  });

  it("serves GET and HEAD only: other methods are 405, a request body is 413", async () => {
    const face = await startFace();
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const answer = await httpRequest(face.port, "/api/rooms", { method, headers: auth(face) });
      expect({ method, status: answer.status, allow: answer.headers.allow }).toEqual({ method, status: 405, allow: "GET, HEAD" });
    }
    const sized = await httpRequest(face.port, "/api/rooms", { headers: { ...auth(face), "content-length": "1000" }, body: "x".repeat(1000) });
    expect({ status: sized.status, connection: sized.headers.connection }).toEqual({ status: 413, connection: "close" });
    const chunked = await httpRequest(face.port, "/api/rooms", { headers: { ...auth(face), "transfer-encoding": "chunked" }, body: "x".repeat(1000) });
    expect(chunked.status).toBe(413);
    const head = await httpRequest(face.port, "/api/rooms", { method: "HEAD", headers: auth(face) });
    expect({ status: head.status, body: head.body.length }).toEqual({ status: 200, body: 0 });
  });

  it("answers a plain GET of /ws with 426: it speaks WebSocket only", async () => {
    const face = await startFace();
    const answer = await httpRequest(face.port, "/ws", { headers: auth(face) });
    expect({ status: answer.status, upgrade: answer.headers.upgrade }).toEqual({ status: 426, upgrade: "websocket" });
  });
});

describe("HttpFace: Host header (DNS rebinding)", () => {
  it("refuses a Host that is not one of the daemon's names with 403, even with the token", async () => {
    const face = await startFace();
    for (const host of [`evil.example.com:${face.port}`, "evil.example.com", `localhost.evil.example:${face.port}`, `user@127.0.0.1:${face.port}`, "127.0.0.1/x"]) {
      const answer = await httpRequest(face.port, "/api/status", { headers: { ...auth(face), host } });
      expect({ host, status: answer.status, body: answer.text }).toEqual({ host, status: 403, body: "403 Forbidden" });
    }
  });

  it("accepts loopback names and IP literals, on any port (an ssh -L tunnel arrives with its own)", async () => {
    const face = await startFace();
    for (const host of [`127.0.0.1:${face.port}`, `localhost:${face.port}`, `LOCALHOST:${face.port}`, `[::1]:${face.port}`, "localhost:9000", "10.1.2.3"]) {
      const answer = await httpRequest(face.port, "/api/status", { headers: { ...auth(face), host } });
      expect({ host, status: answer.status }).toEqual({ host, status: 200 });
    }
  });

  it("accepts the host names of allow-listed origins (a reverse proxy in front)", async () => {
    const face = await startFace({ allowOrigins: ["https://notebooks.example.com"] });
    const answer = await httpRequest(face.port, "/api/status", { headers: { ...auth(face), host: "notebooks.example.com" } });
    expect(answer.status).toBe(200);
  });
});

describe("HttpFace: cross-origin reads", () => {
  it("lets an allow-listed origin fetch with the Authorization header (CORS), and no other origin", async () => {
    const face = await startFace({ allowOrigins: ["http://localhost:5173"] });
    const preflight = await httpRequest(face.port, "/api/rooms", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    expect(preflight.headers["access-control-allow-headers"]).toBe("Authorization");
    expect(preflight.headers["access-control-allow-credentials"]).toBeUndefined();
    const allowed = await httpRequest(face.port, "/api/rooms", { headers: { ...auth(face), origin: "http://localhost:5173" } });
    expect(allowed.headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    const other = await httpRequest(face.port, "/api/rooms", { headers: { ...auth(face), origin: "https://evil.example" } });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    const otherPreflight = await httpRequest(face.port, "/api/rooms", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(otherPreflight.status).toBe(401);
  });
});

describe("HttpFace: WebSocket upgrades at /ws", () => {
  it("refuses an upgrade without a token with 401 and no detail, and never calls the handler", async () => {
    const face = await startFace();
    const attempt = await openWebSocket(`ws://127.0.0.1:${face.port}/ws`);
    expect(attempt).toEqual({ open: false, status: 401, body: "401 Unauthorized" });
    const wrong = await openWebSocket(`ws://127.0.0.1:${face.port}/ws?token=${"0".repeat(64)}`);
    expect(wrong).toMatchObject({ open: false, status: 401 });
    expect(accepted).toHaveLength(0);
  });

  it("hands a program's WebSocket (token, no Origin) to the daemon's handler, binary frames intact", async () => {
    const face = await startFace();
    const attempt = await openWebSocket(`ws://127.0.0.1:${face.port}/ws?token=${face.token}`);
    if (!attempt.open) throw new Error(`refused with ${attempt.status}`);
    const frame = Buffer.from([0x01, 0x00, 0xff, 0x42]);
    expect(await roundTrip(attempt.socket, frame)).toEqual({ data: frame, binary: true });
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.url).toBe(`/ws?token=${face.token}`);
    expect(face.webSocketCount).toBe(1);
    await closeWebSocket(attempt.socket);
  });

  it("accepts the token in the Authorization header too", async () => {
    const face = await startFace();
    const attempt = await openWebSocket(`ws://127.0.0.1:${face.port}/ws`, { headers: auth(face) });
    expect(attempt.open).toBe(true);
    if (attempt.open) await closeWebSocket(attempt.socket);
  });

  it("accepts the daemon's own page (same origin, cookie only) and refuses another origin with 403", async () => {
    const face = await startFace();
    const cookie = `runtimed-token-${face.port}=${face.token}`;
    const own = await openWebSocket(`ws://127.0.0.1:${face.port}/ws`, { headers: { cookie }, origin: `http://127.0.0.1:${face.port}` });
    expect(own.open).toBe(true);
    if (own.open) expect((await roundTrip(own.socket, "hello")).data.toString()).toBe("hello");
    if (own.open) await closeWebSocket(own.socket);
    for (const origin of ["https://evil.example", `http://localhost:${face.port}`, `http://127.0.0.1:${face.port + 1}`, "null"]) {
      const attempt = await openWebSocket(`ws://127.0.0.1:${face.port}/ws?token=${face.token}`, { origin });
      expect({ origin, attempt }).toEqual({ origin, attempt: { open: false, status: 403, body: "403 Forbidden" } });
    }
    expect(accepted).toHaveLength(1);
  });

  it("accepts an origin on the allow-list", async () => {
    const face = await startFace({ allowOrigins: ["https://app.example.com", "http://localhost:5173"] });
    for (const origin of ["https://app.example.com", "http://localhost:5173"]) {
      const attempt = await openWebSocket(`ws://127.0.0.1:${face.port}/ws?token=${face.token}`, { origin });
      expect({ origin, open: attempt.open }).toEqual({ origin, open: true });
      if (attempt.open) await closeWebSocket(attempt.socket);
    }
    const other = await openWebSocket(`ws://127.0.0.1:${face.port}/ws?token=${face.token}`, { origin: "https://app.example.com.evil.example" });
    expect(other).toMatchObject({ open: false, status: 403 });
  });

  it("refuses an upgrade whose Host is not the daemon's (DNS rebinding) with 403", async () => {
    const face = await startFace();
    const attempt = await openWebSocket(`ws://127.0.0.1:${face.port}/ws?token=${face.token}`, {
      headers: { host: `rebind.evil.example:${face.port}` },
      origin: `http://rebind.evil.example:${face.port}`,
    });
    expect(attempt).toEqual({ open: false, status: 403, body: "403 Forbidden" });
  });

  it("serves WebSockets at /ws only", async () => {
    const face = await startFace();
    expect(await openWebSocket(`ws://127.0.0.1:${face.port}/other?token=${face.token}`)).toMatchObject({ open: false, status: 404 });
  });

  it("caps open WebSockets (503 beyond the cap) and frees a place when one closes", async () => {
    const face = await startFace({ maxWebSockets: 2 });
    const url = `ws://127.0.0.1:${face.port}/ws?token=${face.token}`;
    const first = await openWebSocket(url);
    const second = await openWebSocket(url);
    expect([first.open, second.open]).toEqual([true, true]);
    expect(await openWebSocket(url)).toMatchObject({ open: false, status: 503 });
    if (first.open) await closeWebSocket(first.socket);
    for (let i = 0; i < 100 && face.webSocketCount > 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await openWebSocket(url);
    expect(again.open).toBe(true);
    for (const attempt of [second, again]) if (attempt.open) await closeWebSocket(attempt.socket);
  });

  it("closes open WebSockets with 1001 when it stops, then refuses connections", async () => {
    const face = await startFace();
    const attempt = await openWebSocket(`ws://127.0.0.1:${face.port}/ws?token=${face.token}`);
    if (!attempt.open) throw new Error(`refused with ${attempt.status}`);
    const closed = new Promise<number>((resolve) => attempt.socket.once("close", (code) => resolve(code)));
    await face.close();
    expect(await closed).toBe(1001);
    await expect(httpRequest(face.port, "/api/status")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("HttpFace: address", () => {
  it("listens on 127.0.0.1 by default, at a port the system picks", async () => {
    const face = await startFace();
    expect({ host: face.host, url: face.url }).toEqual({ host: "127.0.0.1", url: `http://127.0.0.1:${face.port}/` });
    expect(face.port).toBeGreaterThan(0);
  });

  it("uses a fixed RUNTIMED_PORT, and says which port is taken when it is", async () => {
    const port = await freePort();
    const face = await startFace({ env: { RUNTIMED_PORT: String(port) } });
    expect(face.port).toBe(port);
    const error = await HttpFace.start({ blobs: store, env: {}, port, listRooms: () => [], onWebSocket: () => undefined }).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect((error as Error).message).toContain(`port ${port} is in use`);
  });

  it("logs a warning in daemon.log when RUNTIMED_HOST is not loopback (0.0.0.0)", async () => {
    const logFile = path.join(root, "wildcard.log");
    const logger = new Logger(logFile, "info");
    try {
      const face = await startFace({ env: { RUNTIMED_HOST: "0.0.0.0" }, logger });
      expect(face.host).toBe("0.0.0.0");
      expect(face.url).toBe(`http://127.0.0.1:${face.port}/`);
      expect((await httpRequest(face.port, "/api/status", { headers: auth(face) })).status).toBe(200);
      expect(fs.readFileSync(logFile, "utf8")).toMatch(/WARN the network face listens on 0\.0\.0\.0, beyond this machine/);
    } finally {
      logger.close();
    }
  });

  it("logs no warning on loopback", async () => {
    const logFile = path.join(root, "loopback.log");
    const logger = new Logger(logFile, "info");
    try {
      await startFace({ logger });
      expect(fs.readFileSync(logFile, "utf8")).not.toContain("WARN");
    } finally {
      logger.close();
    }
  });
});
