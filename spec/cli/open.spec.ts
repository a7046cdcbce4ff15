import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pageUrl } from "../../lib/protocol/page-url";
import { DaemonClient } from "../../lib/transport/daemon-client";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { buildPageDir } from "../page/build-page";
import { waitFor } from "../wait-for";
import { killDaemonOf, runCli } from "./cli-process";

jest.setTimeout(180_000);

const REPO_ROOT = path.join(__dirname, "..", "..");

const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: "markdown", id: "intro", metadata: {}, source: ["# Opened from the command line"] },
    { cell_type: "code", id: "sum", metadata: {}, source: ["1 + 1"], outputs: [], execution_count: null },
  ],
};

describe("runtimed open", () => {
  let room: TestRoom;
  let pageDir: string;
  let work: string;

  beforeAll(async () => {
    pageDir = await buildPageDir("runtimed-open-page-");
    room = await startTestDaemon({ pageDir });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-open-"));
  });

  afterAll(async () => {
    await room?.dispose();
    if (room) removeDir(room.cacheDir);
    if (pageDir) removeDir(pageDir);
    if (work) removeDir(work);
  });

  const globals = () => ["--socket", room.socketPath, "--cache-dir", room.cacheDir];

  it("--help explains the command and the token in its address", async () => {
    const result = await runCli(["open", "--help"]);
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.stdout).toMatch(/Usage: runtimed open \[notebook.ipynb\] \[--browser\][\s\S]*token/);
    expect((await runCli(["--help"])).stdout).toContain("open [notebook.ipynb]");
  });

  it("prints the page's address with the token; that address serves the page", async () => {
    const result = await runCli(["open", ...globals()]);
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    const { url, token } = room.daemon.status();
    expect(result.stdout).toBe(`${pageUrl(url, token)}\n`);
    const response = await fetch(result.stdout.trim());
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<script type="module" src="app.js">');
  });

  it("opens a notebook file into a room named by its absolute path, and points the address at it", async () => {
    const file = path.join(work, "analysis.ipynb");
    fs.writeFileSync(file, JSON.stringify(NOTEBOOK));
    // A relative path is resolved against the working directory, as a person means it.
    const result = await runCli(["open", path.relative(REPO_ROOT, file), ...globals()]);
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.stderr).toBe(`Opened ${file} (2 cells).\n`);
    const { url, token } = room.daemon.status();
    expect(result.stdout).toBe(`${pageUrl(url, token, { notebook: file })}\n`);
    expect(new URL(result.stdout.trim()).searchParams.get("notebook")).toBe(file);

    const rooms = await new DaemonClient({ socketPath: room.socketPath }).listRooms();
    expect(rooms.map((listed) => listed.notebookId)).toContain(file);
    const session = room.session({ notebookId: file });
    await session.connect();
    expect(session.getCells().map((cell) => [cell.cellType, cell.source])).toEqual([
      ["markdown", "# Opened from the command line"],
      ["code", "1 + 1"],
    ]);
  });

  it("a notebook file that does not exist yet opens empty, and saving writes it", async () => {
    const file = path.join(work, "new.ipynb");
    const result = await runCli(["open", file, ...globals()]);
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.stderr).toContain(`${file} does not exist yet`);
    expect(fs.existsSync(file)).toBe(false);
    const session = room.session({ notebookId: file });
    await session.connect();
    session.createCell("print('written by the page')");
    expect(await session.save()).toBe(file);
    expect(JSON.parse(fs.readFileSync(file, "utf8")).cells[0].source).toEqual(["print('written by the page')"]);
  });

  it("two notebooks at once are a usage error (exit 2)", async () => {
    const result = await runCli(["open", "a.ipynb", "b.ipynb", ...globals()]);
    expect(result).toMatchObject({ exitCode: 2 });
    expect(result.stderr).toContain("Open one notebook at a time");
    expect(result.stderr).toContain("runtimed open --help");
  });

  it("--browser opens the page through a private redirect file, keeping the token off the browser's command line", async () => {
    // A stand-in for xdg-open on PATH that records what it was asked to open.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-open-bin-"));
    const record = path.join(bin, "opened.txt");
    fs.writeFileSync(path.join(bin, "xdg-open"), `#!/bin/sh\necho "$@" > "${record}"\n`, { mode: 0o755 });
    try {
      const result = await runCli(["open", "--browser", ...globals()], { env: { PATH: `${bin}:${process.env.PATH ?? ""}` } });
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      const { url, token } = room.daemon.status();
      const redirect = path.join(room.cacheDir, "open-page.html");
      await waitFor("the opened address to be recorded", () => fs.existsSync(record) && fs.readFileSync(record, "utf8").trim() !== "", 10_000);
      expect(fs.readFileSync(record, "utf8").trim()).toBe(`file://${redirect}`);
      expect(fs.statSync(redirect).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(redirect, "utf8")).toContain(`url=${pageUrl(url, token)}"`);
    } finally {
      removeDir(bin);
    }
  });

  it("--browser without any browser opener still prints the address, and says why nothing opened", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-open-empty-"));
    try {
      const result = await runCli(["open", "--browser", ...globals()], { env: { PATH: bin } });
      expect(result).toMatchObject({ exitCode: 0 });
      expect(result.stdout).toBe(`${pageUrl(room.daemon.status().url, room.daemon.status().token)}\n`);
      expect(result.stderr).toContain("Could not open a browser (xdg-open is not installed)");
    } finally {
      removeDir(bin);
    }
  });

  it("starts the daemon when none runs", async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-open-start-"));
    try {
      const result = await runCli(["open", "--cache-dir", cacheDir], { timeoutMs: 120_000 });
      expect(result).toMatchObject({ exitCode: 0 });
      const status = await new DaemonClient({ socketPath: path.join(cacheDir, "runtimed.sock") }).status();
      expect(result.stdout).toBe(`${pageUrl(status.url, status.token)}\n`);
    } finally {
      await killDaemonOf(cacheDir);
      removeDir(cacheDir);
    }
  });
});
