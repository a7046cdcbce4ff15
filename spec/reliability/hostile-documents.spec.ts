/**
 * Issue 9, item 9: a client whose sync message breaks the notebook schema cannot crash the
 * daemon or reach other clients. The daemon refuses the change, logs it and closes that
 * connection with PROTOCOL; the honest sessions in the room never see it and keep working.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as Automerge from "@automerge/automerge";
import { loadNotebookDoc, type CellRecord, type NotebookDoc } from "../../lib/notebook/schema";
import { notebookProblem } from "../../lib/notebook/validate";
import { Session } from "../../lib/session/session";
import type { ConnectionState } from "../../lib/session/types";
import { DocumentPeer } from "./document-peer";
import { NO_PREWARMING } from "./environment";
import { IPYKERNEL_ARGV, installKernelSpec } from "./kernelspecs";
import { isRunning, makeTempDir, removeDaemonProcess, spawnDaemonProcess, waitFor, within, type DaemonProcess } from "./processes";

jest.setTimeout(120_000);

const ROOM = "hostile-documents";
const KERNEL = "hostile-docs-python";

let cacheDir: string;
let daemon: DaemonProcess;
const sessions: Session[] = [];
let alice: Session;
let bob: Session;
const aliceStates: ConnectionState[] = [];
const bobStates: ConnectionState[] = [];

beforeAll(async () => {
  cacheDir = makeTempDir("hostile-docs");
  const jupyterPath = path.join(cacheDir, "jupyter");
  installKernelSpec(jupyterPath, KERNEL, IPYKERNEL_ARGV);
  daemon = await spawnDaemonProcess(cacheDir, { JUPYTER_PATH: jupyterPath, ...NO_PREWARMING, PYDEVD_DISABLE_FILE_VALIDATION: "1" });
  alice = session();
  bob = session();
  alice.connection$.subscribe((state) => aliceStates.push(state));
  bob.connection$.subscribe((state) => bobStates.push(state));
  await Promise.all([alice.connect(), bob.connect()]);
  await alice.startKernel({ kernelType: KERNEL });
  const first = alice.createCell("greeting = 'hello'\nprint(greeting)");
  alice.setMetadata("owner", JSON.stringify("alice"));
  expect((await alice.executeCell(first, { timeoutSecs: 60 })).stdout).toBe("hello\n");
  await bob.sync();
});

afterAll(async () => {
  await Promise.all(sessions.map((opened) => opened.close({ shutdownKernel: true }).catch(() => undefined)));
  await removeDaemonProcess(daemon, cacheDir);
});

function session(): Session {
  const opened = new Session({ notebookId: ROOM, socketPath: daemon.socketPath, cacheDir, autoStart: false });
  sessions.push(opened);
  return opened;
}

/** The problems daemon.log gives for every change it refused so far, oldest first. */
function refusalsLogged(): string[] {
  return fs
    .readFileSync(path.join(cacheDir, "daemon.log"), "utf8")
    .split("\n")
    .filter((line) => line.includes("refused a document change"))
    .map((line) => (JSON.parse(line.slice(line.indexOf("{"))) as { problem: string }).problem);
}

const code = (source: string) => new Automerge.ImmutableString(source);

/** Changes no Session makes: each breaks the schema every client relies on. */
const HOSTILE_CHANGES: { what: string; problem: RegExp; mutate(draft: NotebookDoc): void }[] = [
  {
    what: "deletes `cells`",
    problem: /`cells` is not a list/,
    mutate: (draft) => void delete (draft as Partial<NotebookDoc>).cells,
  },
  {
    what: "replaces `cells` with a map",
    problem: /`cells` is not a list/,
    mutate: (draft) => void ((draft as unknown as { cells: object }).cells = { 0: "not a cell" }),
  },
  {
    what: "inserts a cell without an `id`",
    problem: /`id` is not a non-empty string/,
    mutate: (draft) =>
      void draft.cells.push({ cell_type: code("code"), source: "print('no id')", execution_count: null, outputs: [], metadata: {} } as unknown as CellRecord),
  },
  {
    what: "inserts a second cell with an `id` already in use",
    problem: /is used twice/,
    mutate: (draft) =>
      void draft.cells.push({ id: code(String(draft.cells[0]!.id)), cell_type: code("code"), source: "", execution_count: null, outputs: [], metadata: {} }),
  },
  {
    what: "sets a cell's `source` to a number",
    problem: /`source` is not text/,
    mutate: (draft) => void ((draft.cells[0] as unknown as { source: number }).source = 42),
  },
  {
    what: "writes a string that is no output manifest into a cell's `outputs`",
    problem: /output 0/,
    mutate: (draft) => void draft.cells[0]!.outputs.unshift(code("this is not an output manifest")),
  },
  {
    what: "sets a notebook metadata value to a number",
    problem: /metadata "owner" is not a string/,
    mutate: (draft) => void ((draft.metadata as unknown as Record<string, number>).owner = 7),
  },
];

describe("a raw Automerge client that breaks the notebook schema", () => {
  let round = 0;

  it.each(HOSTILE_CHANGES)(
    "one that $what is disconnected with PROTOCOL and logged; the honest sessions never see it and keep editing and executing",
    async ({ problem, mutate }) => {
      round++;
      const cellsBefore = alice.getCells();
      const ownerBefore = alice.getMetadata("owner");
      const refusalsBefore = refusalsLogged().length;

      const peer = await DocumentPeer.join(daemon.socketPath, ROOM);
      try {
        expect(peer.document.cells.length).toBe(cellsBefore.length);
        peer.change(mutate);
        const error = await within("the daemon to close the hostile connection", peer.closed, 15_000);
        expect(error?.code).toBe("PROTOCOL");
        expect(error?.message).toMatch(/Refused a change that breaks the notebook/);
        expect(error?.message).toMatch(problem);
      } finally {
        peer.close();
      }
      await waitFor("daemon.log to record the refusal", () => refusalsLogged().length > refusalsBefore, 10_000);
      expect(refusalsLogged().slice(refusalsBefore)).toEqual([expect.stringMatching(problem)]);
      expect(isRunning(daemon.pid)).toBe(true);

      // Neither honest session saw the change, nor lost its connection.
      await within("both sessions to sync", Promise.all([alice.sync(), bob.sync()]), 20_000);
      expect(alice.getCells()).toEqual(cellsBefore);
      expect(bob.getCells()).toEqual(cellsBefore);
      expect(alice.getMetadata("owner")).toBe(ownerBefore);
      expect(notebookProblem(Automerge.load<NotebookDoc>(alice.documentBytes()))).toBeUndefined();

      // ... and both keep working: create, edit, execute; the other one sees it.
      const id = alice.createCell("placeholder");
      alice.setSource(id, `print(greeting, ${round})`);
      const result = await within("a cell after the attack", alice.executeCell(id, { timeoutSecs: 60 }), 70_000);
      expect(result.success).toBe(true);
      expect(result.stdout).toBe(`hello ${round}\n`);
      // The result can reach alice before the cell reaches bob (both read in this process): bob syncs first.
      await within("bob to see alice's cell", bob.sync(), 20_000);
      bob.setSource(id, `print(greeting, ${round}, 'from bob')`);
      await bob.flush();
      expect((await within("bob's execution", bob.executeCell(id, { timeoutSecs: 60 }), 70_000)).stdout).toBe(`hello ${round} from bob\n`);
      await alice.sync();
      expect(alice.getCell(id).source).toBe(`print(greeting, ${round}, 'from bob')`);
      expect(aliceStates.filter((state) => state !== "connected")).toEqual(["disconnected", "connecting"]);
      expect(bobStates.filter((state) => state !== "connected")).toEqual(["disconnected", "connecting"]);
    },
  );

  it("after every attack a new session joining gets a valid document, and the document the daemon saves is valid", async () => {
    const newcomer = session();
    await newcomer.connect();
    await newcomer.sync();
    await alice.sync();
    expect(newcomer.getCells()).toEqual(alice.getCells());
    expect(newcomer.getCells().length).toBe(1 + HOSTILE_CHANGES.length);
    expect(notebookProblem(Automerge.load<NotebookDoc>(newcomer.documentBytes()))).toBeUndefined();

    // A clean stop saves the room: what is on disk is the honest document, nothing of the attacks.
    const cells = alice.getCells();
    await Promise.all(sessions.map((opened) => opened.close({ shutdownKernel: true }).catch(() => undefined)));
    await daemon.stop();
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    const file = path.join(cacheDir, "notebook-docs", `${createHash("sha256").update(ROOM).digest("hex")}.automerge`);
    const saved = loadNotebookDoc(fs.readFileSync(file));
    expect(notebookProblem(saved)).toBeUndefined();
    expect(saved.cells.map((cell) => String(cell.id))).toEqual(cells.map((cell) => cell.id));
    expect(saved.cells.map((cell) => cell.source)).toEqual(cells.map((cell) => cell.source));
  });
});
