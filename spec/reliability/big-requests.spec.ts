/**
 * Issue 9, item 4: big requests are answered. After the handshake a request may be as large as a
 * frame (100 MiB); one larger fails alone in the SDK with BAD_REQUEST before anything is sent;
 * no request drops the connection. Only the handshake keeps its 64 KiB limit.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { filter, firstValueFrom } from "rxjs";
import { decodeMessage, encodeMessage } from "../../lib/protocol/codec";
import { MAX_FRAME_BYTES, MAX_REQUEST_BYTES, encodeFrame } from "../../lib/protocol/frame";
import { PROTOCOL_VERSION } from "../../lib/protocol/messages";
import type { Session } from "../../lib/session/session";
import type { ConnectionState, RoomEvent } from "../../lib/session/types";
import { expectCode, removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { NO_PREWARMING, setEnv } from "./environment";
import { IPYKERNEL_ARGV, installKernelSpec, useJupyterPath } from "./kernelspecs";
import { makeTempDir, within } from "./processes";

jest.setTimeout(180_000);

const KERNEL = "big-requests-python";
let restoreEnv: (() => void) | undefined;
let jupyterPath: string;
let restoreJupyterPath: () => void;
let room: TestRoom;
let session: Session;
/** Every state of the session's connection since it first connected. */
const states: ConnectionState[] = [];

beforeAll(async () => {
  restoreEnv = setEnv(NO_PREWARMING);
  jupyterPath = makeTempDir("big-requests-jupyter");
  installKernelSpec(jupyterPath, KERNEL, IPYKERNEL_ARGV);
  restoreJupyterPath = useJupyterPath(jupyterPath);
  room = await startTestDaemon();
  session = room.session({ notebookId: "big-requests" });
  await session.connect();
  session.connection$.subscribe((state) => states.push(state));
  await session.startKernel({ kernelType: KERNEL });
});

afterAll(async () => {
  await room?.dispose();
  if (room) removeDir(room.cacheDir);
  restoreJupyterPath?.();
  if (jupyterPath) fs.rmSync(jupyterPath, { recursive: true, force: true });
  restoreEnv?.();
});

/** The connection never dropped: it went to "connected" once and stayed there. */
function expectSameConnection(): void {
  expect(states).toEqual(["connected"]);
  expect(session.isConnected).toBe(true);
}

describe("requests larger than a handshake, on one connection", () => {
  it("a completion in 200 KB of code is answered, a request sent meanwhile too, and the connection stays up", async () => {
    const code = `# ${"x".repeat(200_000)}\nimport o`;
    expect(Buffer.byteLength(code)).toBeGreaterThan(3 * MAX_REQUEST_BYTES);
    const [completion, info] = await within(
      "a big completion and a kernel_info request beside it",
      Promise.all([session.complete(code, code.length), session.kernelInfo()]),
      60_000,
    );
    expect(completion.matches).toContain("os");
    expect(completion.cursorEnd).toBe(code.length);
    expect(info.status).toMatch(/idle|busy/);
    expectSameConnection();
  });

  it("a 1 MB comm message reaches a comm target in the kernel, whose echo of its size comes back as a comm event", async () => {
    const registered = await session.run(
      [
        "def size_echo(comm, open_msg):",
        "    @comm.on_msg",
        "    def _echo(msg):",
        "        comm.send({'size': len(msg['content']['data']['payload'])})",
        "get_ipython().kernel.comm_manager.register_target('size_echo', size_echo)",
      ].join("\n"),
      { timeoutSecs: 60 },
    );
    expect(registered.success).toBe(true);
    const commId = "big-request-comm";
    const payload = "y".repeat(1_000_000);
    const echo = firstValueFrom(
      session.events$.pipe(
        filter((event): event is Extract<RoomEvent, { type: "comm" }> => event.type === "comm" && event.msgType === "comm_msg" && event.content.comm_id === commId),
      ),
    );
    await session.sendComm("comm_open", { comm_id: commId, target_name: "size_echo", data: {} });
    await within("the 1 MB comm message", session.sendComm("comm_msg", { comm_id: commId, data: { payload } }), 30_000);
    const reply = await within("the kernel's echo", echo, 30_000);
    expect(reply.content.data).toEqual({ size: 1_000_000 });
    expectSameConnection();
  });

  it("a request over the 100 MiB frame limit fails alone with BAD_REQUEST before it is sent; requests beside it and after it are answered", async () => {
    const tooBig = "z".repeat(MAX_FRAME_BYTES + 1024 * 1024);
    const cellId = session.createCell("print('still here')");
    const [refused] = await Promise.all([
      expectCode(session.sendComm("comm_msg", { comm_id: "big-request-comm", data: { payload: tooBig } }), "BAD_REQUEST"),
      within("a flush beside the refused request", session.flush(), 30_000),
    ]);
    expect(refused.message).toMatch(/send_comm request is \d+ bytes, over the 104857600-byte frame limit/);
    const result = await within("an execution after it", session.executeCell(cellId, { timeoutSecs: 60 }), 70_000);
    expect(result.stdout).toBe("still here\n");
    expectSameConnection();
  });
});

describe("the handshake", () => {
  it("is still refused over 64 KiB: the daemon closes that connection without accepting it, and serves the next one", async () => {
    const handshake = encodeMessage({ channel: "notebook_sync", notebook_id: "big-handshake", protocol: PROTOCOL_VERSION, padding: "p".repeat(70 * 1024) });
    expect(handshake.byteLength).toBeGreaterThan(MAX_REQUEST_BYTES);
    const { closed, replies } = await within("the daemon to close the connection", sendRaw(room.socketPath, encodeFrame(handshake)), 15_000);
    expect(closed).toBe(true);
    for (const reply of replies) expect(reply).not.toMatchObject({ ok: true });
    // The same handshake within its limit is accepted.
    const small = encodeMessage({ channel: "notebook_sync", notebook_id: "big-handshake", protocol: PROTOCOL_VERSION });
    const accepted = await within("a handshake within the limit", sendRaw(room.socketPath, encodeFrame(small), 1000), 15_000);
    expect(accepted.replies[0]).toMatchObject({ ok: true, protocol: PROTOCOL_VERSION });
    expectSameConnection();
  });
});

/**
 * Writes `bytes` on a fresh connection and collects the frames the daemon sends (the handshake
 * reply decoded) until it closes the connection or `lingerMs` passes (then this side closes it).
 */
function sendRaw(socketPath: string, bytes: Uint8Array, lingerMs = 10_000): Promise<{ closed: boolean; replies: unknown[] }> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let received = Buffer.alloc(0);
    const replies = () => {
      const frames: unknown[] = [];
      let offset = 0;
      while (received.length - offset >= 4) {
        const length = received.readUInt32BE(offset);
        if (received.length - offset - 4 < length) break;
        const frame = received.subarray(offset + 4, offset + 4 + length);
        // The handshake reply is plain msgpack; what follows it starts with a frame type byte.
        frames.push(frames.length === 0 ? decodeMessage(frame) : frame);
        offset += 4 + length;
      }
      return frames;
    };
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, replies: replies() });
    }, lingerMs);
    socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ closed: true, replies: replies() });
    });
    socket.once("connect", () => socket.write(bytes));
  });
}
