import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import type * as nbformat from "@jupyterlab/nbformat";
import * as Automerge from "@automerge/automerge";
import type { DaemonInfo } from "../../lib/transport/paths";
import { daemonFiles } from "../../lib/transport/paths";
import { Session } from "../../lib/session/session";
import { removeDir, startTestDaemon, type TestRoom } from "./harness";

jest.setTimeout(120_000);

let room: TestRoom;
let workDir: string;

beforeAll(async () => {
  room = await startTestDaemon();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-notebooks-"));
});

afterAll(async () => {
  await room?.dispose();
  if (room) removeDir(room.cacheDir);
  if (workDir) removeDir(workDir);
});

const fixtures = path.join(__dirname, "..", "fixtures", "ipynb");

function open(file: string): Promise<Session> {
  return Session.open(file, { socketPath: room.socketPath, cacheDir: room.cacheDir, autoStart: false });
}

function get(url: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, type: response.headers["content-type"], body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

describe(".ipynb files", () => {
  it.each(fs.readdirSync(fixtures).filter((name) => name.endsWith(".ipynb")))(
    "%s written by Jupyter's nbformat opens and saves byte for byte",
    async (name) => {
      const file = path.join(workDir, name);
      fs.copyFileSync(path.join(fixtures, name), file);
      const original = fs.readFileSync(file);
      const session = await open(file);
      try {
        expect(session.getCells().length).toBeGreaterThan(0);
        const out = path.join(workDir, `copy-of-${name}`);
        await session.save(out);
        expect(fs.readFileSync(out)).toEqual(original);
        await session.save();
        expect(fs.readFileSync(file)).toEqual(original);
      } finally {
        await session.close({ shutdownKernel: false });
      }
    },
  );

  it("outputs of executed cells are saved, and a reopened room keeps its link", async () => {
    const file = path.join(workDir, "fresh.ipynb");
    const session = await open(file);
    try {
      const cellId = session.createCell("print('saved output')");
      await session.executeCell(cellId);
      expect(await session.save()).toBe(file);
      const written = JSON.parse(fs.readFileSync(file, "utf8")) as nbformat.INotebookContent;
      expect(written.nbformat).toBe(4);
      expect(written.cells[0]).toMatchObject({ id: cellId, execution_count: 1, outputs: [{ output_type: "stream", text: ["saved output\n"] }] });
    } finally {
      await session.close();
    }
  });

  it("a file changed on disk is reloaded when no one else is in the room", async () => {
    const file = path.join(workDir, "edited-on-disk.ipynb");
    const session = await open(file);
    session.createCell("x = 1");
    await session.save();
    await session.close({ shutdownKernel: false });
    const onDisk = JSON.parse(fs.readFileSync(file, "utf8")) as nbformat.INotebookContent;
    onDisk.cells[0]!.source = ["x = 2"];
    fs.writeFileSync(file, JSON.stringify(onDisk, null, 1) + "\n");
    const again = await open(file);
    try {
      expect(again.getCells().map((c) => c.source)).toEqual(["x = 2"]);
    } finally {
      await again.close({ shutdownKernel: false });
    }
  });
});

describe("blob store", () => {
  it("a 5 MB output grows the document by under 2 KB and is served over HTTP", async () => {
    const session = room.session({ notebookId: "big-output" });
    await session.connect();
    const cellId = session.createCell("import base64, os\nprint(base64.b64encode(os.urandom(3_750_000)).decode())");
    await session.sync();
    const before = session.documentBytes().length;
    const result = await session.executeCell(cellId);
    expect(result.stdout.length).toBe(5_000_001);
    await session.sync();
    const cell = session.getCell(cellId);
    expect((cell.outputs[0] as nbformat.IStream).text).toBe(result.stdout);
    const growth = session.documentBytes().length - before;
    process.stdout.write(`[measure] 5 MB output: document grew by ${growth} bytes\n`);
    expect(growth).toBeLessThan(2048);

    // The stored manifest refers to a blob the daemon serves on 127.0.0.1, to holders of its token.
    const doc = Automerge.load<{ cells: { outputs: unknown[] }[] }>(session.documentBytes());
    const manifest = JSON.parse(String(doc.cells.at(-1)!.outputs[0])) as { text: { blob: string; size: number } };
    expect(manifest.text.size).toBe(5_000_001);
    const info = JSON.parse(fs.readFileSync(daemonFiles(room.cacheDir).info, "utf8")) as DaemonInfo;
    const served = await get(`${info.url}blob/${manifest.text.blob}?token=${info.token}`);
    expect(served.status).toBe(200);
    expect(served.type).toMatch(/^text\/plain/);
    expect(served.body.toString()).toBe(result.stdout);
    expect((await get(`${info.url}blob/${manifest.text.blob}`)).status).toBe(401);
    expect((await get(`${info.url}blob/${"0".repeat(64)}?token=${info.token}`)).status).toBe(404);
    expect((await get(`${info.url}blob/../daemon.json?token=${info.token}`)).status).toBe(404);
  });
});
