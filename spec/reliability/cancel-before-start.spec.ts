/**
 * Issue 9, item 6: an execution cancelled (unsubscribed, or timed out) before it started never
 * runs afterwards: not when its kernel is still starting, not when the cancel follows the
 * request on the wire before the daemon has queued it.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { filter, firstValueFrom, lastValueFrom } from "rxjs";
import { encodeMessage } from "../../lib/protocol/codec";
import { encodeFrame } from "../../lib/protocol/frame";
import { FrameType, PROTOCOL_VERSION } from "../../lib/protocol/messages";
import { toResult } from "../../lib/session/operators";
import type { Session } from "../../lib/session/session";
import { expectCode, removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { NO_PREWARMING, setEnv } from "./environment";
import { IPYKERNEL_ARGV, SYSTEM_PYTHON, installKernelSpec, useJupyterPath } from "./kernelspecs";
import { makeTempDir, waitFor, within } from "./processes";

jest.setTimeout(180_000);

/** A kernel that takes 3 s before it even starts Python. */
const SLOW_KERNEL = "slow-start-python";
const KERNEL = "cancel-spec-python";
/** How long after the kernel is up a cancelled execution would surely have run. */
const WOULD_HAVE_RUN_MS = 3000;

let restoreEnv: (() => void) | undefined;
let jupyterPath: string;
let markers: string;
let restoreJupyterPath: () => void;
let room: TestRoom;

beforeAll(async () => {
  restoreEnv = setEnv(NO_PREWARMING);
  jupyterPath = makeTempDir("cancel-jupyter");
  markers = makeTempDir("cancel-markers");
  const launch = IPYKERNEL_ARGV.slice(1).join(" ");
  installKernelSpec(jupyterPath, SLOW_KERNEL, ["/bin/sh", "-c", `sleep 3; exec ${SYSTEM_PYTHON} ${launch}`]);
  installKernelSpec(jupyterPath, KERNEL, IPYKERNEL_ARGV);
  restoreJupyterPath = useJupyterPath(jupyterPath);
  room = await startTestDaemon();
});

afterAll(async () => {
  await room?.dispose();
  if (room) removeDir(room.cacheDir);
  restoreJupyterPath?.();
  for (const dir of [jupyterPath, markers]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  restoreEnv?.();
});

/** A cell that leaves a file behind if it ever runs; returns the cell and the file. */
function markerCell(session: Session, name: string): { cellId: string; marker: string } {
  const marker = path.join(markers, name);
  return { cellId: session.createCell(`open(${JSON.stringify(marker)}, "w").write("ran")`), marker };
}

/** Starts the slow kernel without waiting for it; resolves once the room's kernel is starting. */
async function startSlowKernel(session: Session): Promise<{ up: Promise<void> }> {
  const started = session.startKernel({ kernelType: SLOW_KERNEL });
  started.catch(() => undefined);
  await within("the kernel to be starting", firstValueFrom(session.kernelStatus$.pipe(filter((status) => status === "starting"))), 30_000);
  return { up: started };
}

describe("an execution cancelled while its kernel is still starting", () => {
  it("one that times out and one that is unsubscribed never run, even once the kernel is up; the next execution is the kernel's first", async () => {
    const session = room.session({ notebookId: "cancel-while-starting" });
    await session.connect();
    const { up: kernelUp } = await startSlowKernel(session);

    const timedOut = markerCell(session, "timed-out");
    await expectCode(lastValueFrom(session.execute(timedOut.cellId, { timeoutSecs: 1 })), "TIMEOUT");

    const unsubscribed = markerCell(session, "unsubscribed");
    const events: string[] = [];
    const watching = session.execute(unsubscribed.cellId, { timeoutSecs: 60 }).subscribe((event) => events.push(event.type));
    await waitFor("the daemon to queue it", () => events.includes("queued"), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    watching.unsubscribe();

    await within("the slow kernel to start", kernelUp, 60_000);
    await new Promise((resolve) => setTimeout(resolve, WOULD_HAVE_RUN_MS));
    expect(fs.existsSync(timedOut.marker)).toBe(false);
    expect(fs.existsSync(unsubscribed.marker)).toBe(false);
    expect(await session.request({ action: "get_queue_state" })).toEqual({ executing: null, queued: [] });

    const next = session.createCell("print('the first to run')");
    const result = await within("an execution after the cancelled ones", session.executeCell(next, { timeoutSecs: 60 }), 70_000);
    expect(result.stdout).toBe("the first to run\n");
    expect(result.executionCount).toBe(1);
    expect(fs.existsSync(timedOut.marker) || fs.existsSync(unsubscribed.marker)).toBe(false);
  });

  it("one unsubscribed in the same tick it was subscribed never runs either", async () => {
    const session = room.session({ notebookId: "cancel-at-once" });
    await session.connect();
    const { up: kernelUp } = await startSlowKernel(session);
    const atOnce = markerCell(session, "at-once");
    session.execute(atOnce.cellId, { timeoutSecs: 60 }).subscribe().unsubscribe();

    await within("the slow kernel to start", kernelUp, 60_000);
    await new Promise((resolve) => setTimeout(resolve, WOULD_HAVE_RUN_MS));
    expect(fs.existsSync(atOnce.marker)).toBe(false);
    const result = await session.run("print('after')", { timeoutSecs: 60 });
    expect(result.executionCount).toBe(1);
    expect(fs.existsSync(atOnce.marker)).toBe(false);
  });
});

describe("a cancel that follows its execute request on the wire", () => {
  it("arriving before the daemon has queued the execution, still stops it: the cell never runs, even on an idle kernel", async () => {
    const session = room.session({ notebookId: "cancel-on-the-wire" });
    await session.connect();
    await session.startKernel({ kernelType: KERNEL });
    const wire = markerCell(session, "on-the-wire");
    await session.flush();
    const done = firstValueFrom(session.events$.pipe(filter((event) => event.type === "execution_done" && event.executionId === "wire-execution")));

    // Both frames in one write, as a client that cancels at once sends them.
    const requests = [
      { id: 1, action: "execute_cell", cell_id: wire.cellId, execution_id: "wire-execution", heads: [] },
      { id: 2, action: "cancel_execution", execution_id: "wire-execution" },
    ].map((request) => encodeFrame(Buffer.concat([Buffer.from([FrameType.Request]), encodeMessage(request)])));
    await within("the raw client's requests", sendAfterHandshake(room.socketPath, "cancel-on-the-wire", Buffer.concat(requests)), 15_000);

    const ended = await within("the execution to end", done, 30_000);
    expect(ended).toMatchObject({ success: false, error: { code: "CANCELLED" } });
    await new Promise((resolve) => setTimeout(resolve, WOULD_HAVE_RUN_MS));
    expect(fs.existsSync(wire.marker)).toBe(false);
    const result = await session.run("print('after')", { timeoutSecs: 60 });
    expect(result.executionCount).toBe(1);
  });
});

describe("an execution cancelled before it ran", () => {
  it("leaves the cell's outputs from its last run as they were", async () => {
    const session = room.session({ notebookId: "cancel-keeps-outputs" });
    await session.connect();
    await session.startKernel({ kernelType: SLOW_KERNEL });
    // Each kernel prints its own pid: a run in the restarted kernel would change the output.
    const cellId = session.createCell("import os\nprint('run in', os.getpid())");
    const first = await session.executeCell(cellId, { timeoutSecs: 60 });
    expect(first.stdout).toMatch(/^run in \d+\n$/);
    const restarting = session.restartKernel();
    restarting.catch(() => undefined);
    await within("the kernel to be restarting", firstValueFrom(session.kernelStatus$.pipe(filter((status) => status === "restarting"))), 30_000);
    await expectCode(session.executeCell(cellId, { timeoutSecs: 1 }), "TIMEOUT");
    await within("the kernel to start again", restarting, 60_000);
    await session.sync();
    await new Promise((resolve) => setTimeout(resolve, WOULD_HAVE_RUN_MS));
    await session.sync();
    expect(session.getCell(cellId)).toMatchObject({ executionCount: 1, outputs: [{ output_type: "stream", name: "stdout", text: first.stdout }] });
  });
});

/** Opens a raw connection to `notebookId` and writes `bytes` (in one write) once the daemon has answered the handshake. */
function sendAfterHandshake(socketPath: string, notebookId: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let shaken = false;
    socket.on("error", reject);
    socket.on("data", () => {
      if (!shaken) {
        shaken = true;
        socket.write(bytes);
        // Stay a while for the answers, then leave: the execution is the room's, not ours.
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 500);
      }
    });
    socket.once("connect", () => socket.write(encodeFrame(encodeMessage({ channel: "notebook_sync", notebook_id: notebookId, protocol: PROTOCOL_VERSION }))));
  });
}
