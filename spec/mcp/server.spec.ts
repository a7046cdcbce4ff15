/**
 * `runtimed mcp` as an agent's MCP client drives it: the built CLI spawned over stdio, driven by
 * the SDK's Client, against a real daemon (in this process) and real kernels. A Session in this
 * process is "another client" in the same rooms. One daemon and one MCP server for the file.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { filter, firstValueFrom, timeout } from "rxjs";
import type * as nbformat from "@jupyterlab/nbformat";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DaemonClient, type Session } from "../../lib";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { BUILT_CLI, ensureBuilt, startMcpServer, textOf, type McpProcess } from "./mcp-process";

jest.setTimeout(180_000);

/** A valid 1x1 red PNG. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

let room: TestRoom;
let workDir: string;
let mcp: McpProcess;

beforeAll(async () => {
  ensureBuilt();
  room = await startTestDaemon();
  workDir = fs.mkdtempSync(path.join(room.cacheDir, "work-"));
  mcp = await startMcpServer(room, workDir);
});

afterAll(async () => {
  await mcp?.close();
  await room?.dispose();
  if (room) removeDir(room.cacheDir);
});

/** Calls a tool that must succeed; fails with its text (and the server's stderr) otherwise. */
async function ok(name: string, args: Record<string, unknown> = {}, options: Parameters<McpProcess["call"]>[2] = {}): Promise<CallToolResult> {
  const result = await mcp.call(name, args, options);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}\n${mcp.stderr()}`);
  return result;
}

/** Calls a tool that must fail as a tool error (never a protocol error); resolves with its message. */
async function toolError(name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await mcp.call(name, args);
  expect(result.isError).toBe(true);
  return textOf(result);
}

function structured<T = Record<string, unknown>>(result: CallToolResult): T {
  return result.structuredContent as T;
}

async function newNotebook(args: Record<string, unknown> = {}): Promise<string> {
  return structured<{ notebook_id: string }>(await ok("create_notebook", args)).notebook_id;
}

async function newCell(source: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return ok("create_cell", { source, ...args });
}

/** A Session of this process in the notebook the agent works in. */
async function join(notebookId: string): Promise<Session> {
  const session = room.session({ notebookId });
  await session.connect();
  return session;
}

describe("runtimed mcp", () => {
  it("--help says how to configure an MCP client, and unknown options are usage errors", () => {
    const help = execFileSync(process.execPath, [BUILT_CLI, "mcp", "--help"], { encoding: "utf8" });
    expect(help).toContain('{"mcpServers": {"runtimed": {"command": "npx", "args": ["runtimed", "mcp"]}}}');
    const bad = spawnSync(process.execPath, [BUILT_CLI, "mcp", "--frobnicate"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("See `runtimed mcp --help`");
  });

  it("lists the tools runtimed's MCP server names, each with a description and an input schema", async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      [
        "list_active_notebooks", "open_notebook", "connect_notebook", "create_notebook", "save_notebook",
        "get_cell", "get_all_cells", "create_cell", "set_cell", "delete_cell", "move_cell", "clear_outputs", "replace_match",
        "execute_cell", "run_all_cells", "get_results", "interrupt_kernel", "restart_kernel",
        "get_dependencies", "add_dependency", "remove_dependency",
      ].sort(),
    );
    for (const tool of tools) {
      expect(tool.description).toBeTruthy();
      expect(tool.inputSchema.type).toBe("object");
    }
    const createCell = tools.find((tool) => tool.name === "create_cell")!;
    expect(Object.keys(createCell.inputSchema.properties!)).toEqual(["source", "cell_type", "after_cell_id", "and_run", "timeout_secs"]);
  });

  it("a notebook tool called before any notebook is open is a tool error naming the tools to call first", async () => {
    for (const name of ["get_all_cells", "create_cell", "execute_cell", "get_dependencies", "save_notebook"]) {
      const message = await toolError(name, name === "execute_cell" ? { cell_id: "cell-x" } : {});
      expect(message).toContain("No notebook is open yet");
      expect(message).toContain("create_notebook");
      expect(message).toContain("open_notebook");
    }
  });

  it("creates a notebook that list_active_notebooks shows as open here", async () => {
    const notebookId = await newNotebook();
    const listed = structured<{ notebooks: { notebook_id: string; clients: number; open_here: boolean }[] }>(await ok("list_active_notebooks")).notebooks;
    expect(listed).toContainEqual(expect.objectContaining({ notebook_id: notebookId, clients: 1, open_here: true }));
  });

  describe("in one notebook", () => {
    beforeAll(async () => {
      await newNotebook();
    });

    it("creates and runs a cell: its stdout comes back as text with the execution id and status", async () => {
      const result = await newCell("for i in range(3):\n    print('step', i)", { and_run: true });
      const text = textOf(result);
      const execution = structured<{ cell_id: string; execution_id: string; status: string; execution_count: number; outputs: nbformat.IOutput[] }>(result);
      expect(text).toContain(`Created cell: ${execution.cell_id}`);
      expect(text).toContain("step 0\nstep 1\nstep 2\n");
      expect(text).toContain(`exec=${execution.execution_id}`);
      expect(execution).toMatchObject({ status: "done", execution_count: 1, outputs: [{ output_type: "stream", name: "stdout", text: "step 0\nstep 1\nstep 2\n" }] });
    });

    it("an exception comes back as ename: evalue and a traceback without ANSI escapes", async () => {
      const result = await newCell("def divide(a, b):\n    return a / b\ndivide(1, 0)", { and_run: true });
      const text = textOf(result);
      expect(result.isError).toBeFalsy();
      expect(structured(result)).toMatchObject({ status: "error", outputs: [{ output_type: "error", ename: "ZeroDivisionError" }] });
      expect(text).toContain("ZeroDivisionError: division by zero");
      expect(text).toContain("Traceback");
      expect(text).toContain("return a / b");
      expect(text).not.toContain("\x1b[");
      // The structured outputs are the nbformat outputs as the kernel sent them, colours included.
      expect((structured<{ outputs: nbformat.IError[] }>(result).outputs[0]!.traceback.join(""))).toContain("\x1b[");
    });

    it("a PNG display comes back as MCP image content", async () => {
      const result = await newCell(`import base64\nfrom IPython.display import Image, display\ndisplay(Image(data=base64.b64decode("${PNG_BASE64}")))`, { and_run: true });
      expect(result.content).toContainEqual({ type: "image", mimeType: "image/png", data: PNG_BASE64 });
      expect(structured(result)).toMatchObject({ status: "done", outputs: [{ output_type: "display_data", data: { "image/png": expect.any(String) } }] });
    });

    it("replace_match edits part of a cell, and executing it runs the edited source", async () => {
      const cellId = structured<{ cell_id: string }>(await newCell("greeting = 'hello'\nprint(greeting, 'world')")).cell_id;
      const edit = await ok("replace_match", { cell_id: cellId, match: "'hello'", replacement: "'goodbye'" });
      expect(textOf(edit)).toContain(`Replaced "'hello'" with "'goodbye'" in cell ${cellId} (at character 11).`);
      expect(structured(edit)).toMatchObject({ source: "greeting = 'goodbye'\nprint(greeting, 'world')" });
      const run = await ok("execute_cell", { cell_id: cellId });
      expect(textOf(run)).toContain("goodbye world");
      const runAgain = await ok("replace_match", { cell_id: cellId, match: "world", content: "moon", and_run: true });
      expect(textOf(runAgain)).toContain("goodbye moon");
    });

    it("get_results returns a finished execution; long output is cut with a note, and full_output returns it whole", async () => {
      const result = await newCell("print('\\n'.join(f'line {i:05d}' for i in range(2000)))", { and_run: true });
      const { execution_id: executionId } = structured<{ execution_id: string }>(result);
      const whole = Array.from({ length: 2000 }, (_, i) => `line ${String(i).padStart(5, "0")}`).join("\n") + "\n";
      expect(textOf(result)).not.toContain(whole);
      expect(textOf(result)).toContain(`get_results with execution_id "${executionId}" and full_output: true`);
      expect(textOf(result)).toContain("line 00000");
      expect(textOf(result)).toContain("line 01999");

      const again = await ok("get_results", { execution_id: executionId });
      expect(structured(again)).toMatchObject({ execution_id: executionId, status: "done" });
      expect(textOf(again)).toContain("characters omitted");
      const full = await ok("get_results", { execution_id: executionId, full_output: true });
      expect(textOf(full)).toContain(whole);
    });

    it("sends a running cell's output as progress notifications while it runs", async () => {
      // The cell cannot finish until the test has seen its first line in a progress notification.
      const release = path.join(workDir, "release-progress");
      const source = `import os, time\nprint('waiting for the test', flush=True)\nwhile not os.path.exists(${JSON.stringify(release)}):\n    time.sleep(0.05)\nprint('released')`;
      const messages: string[] = [];
      const result = await ok("create_cell", { source, and_run: true }, {
        onprogress: (progress) => {
          messages.push(progress.message ?? "");
          if (progress.message?.includes("waiting for the test")) fs.writeFileSync(release, "");
        },
      });
      expect(messages.some((message) => message.startsWith("running cell-"))).toBe(true);
      expect(messages).toContain("waiting for the test\n");
      // The last line may come as a progress notification too, but the SDK's Client handles
      // notifications a microtask after a response read in the same chunk, and then drops them.
      expect(textOf(result)).toContain("waiting for the test\nreleased\n");
    });

    it("a cell that outlives timeout_secs is interrupted, the result says so, and the kernel runs the next cell", async () => {
      const result = await newCell("import time\nprint('started')\nwhile True:\n    time.sleep(0.05)", { and_run: true, timeout_secs: 2 });
      const text = textOf(result);
      expect(structured(result)).toMatchObject({ status: "timed_out" });
      expect(text).toContain("timed_out");
      expect(text).toMatch(/did not finish within 2 s; it was interrupted/);
      expect(text).toContain("started");
      expect(textOf(await newCell("print('still here')", { and_run: true }))).toContain("still here");
    });

    it("interrupt_kernel stops the running cell of a concurrent execute_cell", async () => {
      const cellId = structured<{ cell_id: string }>(await newCell("import time\nprint('looping', flush=True)\nwhile True:\n    time.sleep(0.05)")).cell_id;
      let interrupted: Promise<CallToolResult> | undefined;
      const run = ok("execute_cell", { cell_id: cellId, timeout_secs: 120 }, {
        onprogress: (progress) => {
          if (progress.message?.includes("looping") && !interrupted) interrupted = ok("interrupt_kernel");
        },
      });
      const result = await run;
      expect(textOf(await interrupted!)).toContain("Interrupted the kernel");
      expect(structured(result)).toMatchObject({ status: "error", outputs: [{ output_type: "stream" }, { output_type: "error", ename: "KeyboardInterrupt" }] });
    });
  });

  it("run_all_cells runs the code cells in order and stops at the first failure", async () => {
    await newNotebook();
    await newCell("# Title", { cell_type: "markdown" });
    await newCell("x = 20");
    await newCell("print(x * 2 + 2)");
    await newCell("raise ValueError('stop here')");
    const last = structured<{ cell_id: string }>(await newCell("print('never')")).cell_id;
    const result = await ok("run_all_cells");
    const summary = structured<{ cells: { status: string }[]; not_run: string[] }>(result);
    expect(summary.cells.map((cell) => cell.status)).toEqual(["done", "done", "error"]);
    expect(summary.not_run).toEqual([last]);
    expect(textOf(result)).toContain("Ran 3 of 4 code cells: 2 done, 1 failed, 1 not run");
    expect(textOf(result)).toContain("42\n");
    expect(textOf(result)).toContain("ValueError: stop here");
  });

  it("restart_kernel gives a fresh interpreter", async () => {
    await newNotebook();
    await newCell("remembered = 1", { and_run: true });
    const restart = await ok("restart_kernel");
    expect(structured(restart)).toMatchObject({ kernel_type: "python", env_source: expect.any(String) });
    const after = await newCell("print(remembered)", { and_run: true });
    expect(structured(after)).toMatchObject({ status: "error", outputs: [{ ename: "NameError" }] });
  });

  it("a Session in the room sees the agent's cells and their outputs live", async () => {
    const notebookId = await newNotebook();
    const session = await join(notebookId);
    const release = path.join(workDir, "release-session");
    const cellId = structured<{ cell_id: string }>(
      await newCell(`import os, time\nprint('agent says hi', flush=True)\nwhile not os.path.exists(${JSON.stringify(release)}):\n    time.sleep(0.05)`),
    ).cell_id;
    await firstValueFrom(session.cell$(cellId).pipe(timeout(30_000)));
    // The cell runs until the Session has seen its output: only a live view gets there.
    const seen = firstValueFrom(
      session.outputs$(cellId).pipe(
        filter((outputs) => outputs.some((output) => output.output_type === "stream" && String((output as nbformat.IStream).text).includes("agent says hi"))),
        timeout(60_000),
      ),
    ).then(() => fs.writeFileSync(release, ""));
    const [run] = await Promise.all([ok("execute_cell", { cell_id: cellId, timeout_secs: 90 }), seen]);
    expect(structured(run)).toMatchObject({ status: "done" });
    expect(session.getCell(cellId)).toMatchObject({ source: expect.stringContaining("agent says hi"), executionCount: 1 });
  });

  it("the agent sees and runs the cells a Session made, and the Session sees its moves, retypes, clears and deletes", async () => {
    const notebookId = await newNotebook();
    const session = await join(notebookId);
    const first = session.createCell("value = 40 + 2\nprint(value)");
    const second = session.createCell("## Notes", { cellType: "markdown" });
    await session.flush();

    const listing = textOf(await ok("get_all_cells"));
    expect(listing).toContain(`0 | code | id=${first}`);
    expect(listing).toContain(`1 | markdown | id=${second}`);
    expect(textOf(await ok("execute_cell", { cell_id: first }))).toContain("42\n");
    const read = await ok("get_cell", { cell_id: first });
    expect(structured(read)).toMatchObject({ cell_id: first, cell_type: "code", execution_count: 1, outputs: [{ text: "42\n" }] });

    await ok("move_cell", { cell_id: second });
    await ok("set_cell", { cell_id: second, cell_type: "raw", source: "raw text" });
    await session.sync();
    expect(session.getCells().map((cell) => [cell.id, cell.cellType, cell.source])).toEqual([
      [second, "raw", "raw text"],
      [first, "code", "value = 40 + 2\nprint(value)"],
    ]);
    await ok("move_cell", { cell_id: second, after_cell_id: first });
    await ok("clear_outputs", { cell_ids: [first] });
    await session.sync();
    expect(session.getCells().map((cell) => cell.id)).toEqual([first, second]);
    expect(session.getCell(first)).toMatchObject({ outputs: [], executionCount: null });
    await ok("delete_cell", { cell_id: second });
    await session.sync();
    expect(session.getCells().map((cell) => cell.id)).toEqual([first]);
  });

  it("create_cell places cells after after_cell_id, at the start for null, at the end when omitted", async () => {
    await newNotebook();
    const a = structured<{ cell_id: string }>(await newCell("a")).cell_id;
    const c = structured<{ cell_id: string }>(await newCell("c")).cell_id;
    const b = structured<{ cell_id: string }>(await newCell("b", { after_cell_id: a })).cell_id;
    const start = structured<{ cell_id: string; index: number }>(await newCell("start", { after_cell_id: null }));
    expect(start.index).toBe(0);
    const cells = structured<{ cells: { cell_id: string }[] }>(await ok("get_all_cells", { format: "json" })).cells;
    expect(cells.map((cell) => cell.cell_id)).toEqual([start.cell_id, a, b, c]);
  });

  it("dependencies are kept in the notebook's metadata where environment detection and saved files have them", async () => {
    const notebookId = await newNotebook({ dependencies: ["numpy"] });
    expect(structured(await ok("get_dependencies"))).toMatchObject({ dependencies: ["numpy"], package_manager: "uv", metadata_key: "notebook_metadata.runt.uv" });
    await ok("add_dependency", { package: "pandas>=2" });
    const replaced = await ok("add_dependency", { package: ["Pandas<3", "matplotlib"] });
    expect(structured(replaced)).toMatchObject({ dependencies: ["numpy", "Pandas<3", "matplotlib"], restarted: false });
    expect(textOf(replaced)).toContain("restart_kernel");
    const removed = await ok("remove_dependency", { package: "numpy" });
    expect(structured(removed)).toMatchObject({ dependencies: ["Pandas<3", "matplotlib"] });

    const session = await join(notebookId);
    expect(JSON.parse(session.getMetadata("notebook_metadata")!)).toMatchObject({
      kernelspec: { name: "python3", language: "python" },
      runt: { uv: { dependencies: ["Pandas<3", "matplotlib"] } },
    });
    const file = path.join(workDir, "with-deps.ipynb");
    expect(structured(await ok("save_notebook", { path: file }))).toMatchObject({ path: file });
    expect(JSON.parse(fs.readFileSync(file, "utf8")).metadata.runt.uv.dependencies).toEqual(["Pandas<3", "matplotlib"]);
    expect(await toolError("remove_dependency", { package: "scipy" })).toContain("not among the notebook's dependencies");
  });

  it("saves to a path, saves there again without one, and opens the file again by path", async () => {
    await newNotebook();
    expect(await toolError("save_notebook")).toContain("call save_notebook with a path");
    await newCell("print('saved output')", { and_run: true });
    const saved = structured<{ path: string }>(await ok("save_notebook", { path: "saved.ipynb" })).path;
    expect(saved).toBe(path.join(fs.realpathSync(workDir), "saved.ipynb"));
    await newCell("# more", { cell_type: "markdown" });
    await ok("save_notebook");
    const written = JSON.parse(fs.readFileSync(saved, "utf8")) as { cells: { cell_type: string; outputs?: { text: string[] }[] }[] };
    expect(written.cells.map((cell) => cell.cell_type)).toEqual(["code", "markdown"]);
    expect(written.cells[0]!.outputs![0]!.text.join("")).toBe("saved output\n");

    const opened = await ok("open_notebook", { path: saved });
    expect(structured(opened)).toMatchObject({ notebook_id: saved, cells: 2 });
    expect(textOf(opened)).toContain("print('saved output')");
  });

  it("open_notebook (and connect_notebook) joins an active notebook by id", async () => {
    const session = room.session();
    session.createCell("print('made by a program')");
    await session.flush();
    const opened = await ok("connect_notebook", { notebook_id: session.notebookId });
    expect(structured(opened)).toMatchObject({ notebook_id: session.notebookId, cells: 1 });
    expect(textOf(await ok("get_all_cells"))).toContain("made by a program");
  });

  it("create_notebook with a Deno kernel runs TypeScript", async () => {
    await newNotebook({ kernel: "deno" });
    const result = await newCell("const answer: number = 6 * 7;\nconsole.log(`answer ${answer}`);", { and_run: true });
    expect(textOf(result)).toContain("answer 42");
  });

  describe("bad input is a tool error an agent can act on", () => {
    let codeCell: string;
    let markdownCell: string;

    beforeAll(async () => {
      await newNotebook();
      codeCell = structured<{ cell_id: string }>(await newCell("total = 1 + 1\ntotal = total + 1")).cell_id;
      markdownCell = structured<{ cell_id: string }>(await newCell("# Heading", { cell_type: "markdown" })).cell_id;
    });

    it("an unknown cell, whichever tool names it", async () => {
      const calls: [string, Record<string, unknown>][] = [
        ["get_cell", { cell_id: "cell-missing" }],
        ["execute_cell", { cell_id: "cell-missing" }],
        ["set_cell", { cell_id: "cell-missing", source: "x" }],
        ["delete_cell", { cell_id: "cell-missing" }],
        ["move_cell", { cell_id: "cell-missing" }],
        ["move_cell", { cell_id: codeCell, after_cell_id: "cell-missing" }],
        ["create_cell", { source: "x", after_cell_id: "cell-missing" }],
        ["clear_outputs", { cell_ids: [codeCell, "cell-missing"] }],
        ["replace_match", { cell_id: "cell-missing", match: "a", replacement: "b" }],
      ];
      for (const [name, args] of calls) {
        const message = await toolError(name, args);
        expect(message).toContain("cell-missing");
        expect(message).toContain("get_all_cells");
      }
    });

    it("an unknown notebook, a missing file, an existing file to create, and neither or both of notebook_id and path", async () => {
      const unknown = await toolError("open_notebook", { notebook_id: "no-such-notebook" });
      expect(unknown).toContain("No active notebook");
      expect(unknown).toContain("list_active_notebooks");
      const missing = await toolError("open_notebook", { path: "missing.ipynb" });
      expect(missing).toContain(`No notebook file at ${path.join(fs.realpathSync(workDir), "missing.ipynb")}`);
      expect(missing).toContain("create_notebook");
      fs.writeFileSync(path.join(workDir, "exists.ipynb"), "{}");
      expect(await toolError("create_notebook", { path: "exists.ipynb" })).toContain("already exists; open it with open_notebook");
      expect(await toolError("open_notebook", {})).toContain("Pass either notebook_id");
      expect(await toolError("connect_notebook", { notebook_id: "a", path: "b.ipynb" })).toContain("Pass either notebook_id");
    });

    it("a markdown cell asked to execute", async () => {
      const message = await toolError("execute_cell", { cell_id: markdownCell });
      expect(message).toContain(`Cell ${markdownCell} is a markdown cell; only code cells execute`);
      expect(message).toContain('cell_type "code"');
    });

    it("replace_match text that is not there, or there twice without context to pick one", async () => {
      expect(await toolError("replace_match", { cell_id: codeCell, match: "absent", replacement: "x" })).toContain("No match for \"absent\"");
      const twice = await toolError("replace_match", { cell_id: codeCell, match: "total", replacement: "sum" });
      expect(twice).toContain("occurs 3 times");
      expect(twice).toContain("context_before");
      const context = await toolError("replace_match", { cell_id: codeCell, match: "1", replacement: "2", context_before: "+ " });
      expect(context).toContain('"1" occurs 2 times');
      expect(await toolError("replace_match", { cell_id: codeCell, match: "1" })).toContain("needs replacement");
      const picked = await ok("replace_match", { cell_id: codeCell, match: "1", replacement: "2", context_after: "\ntotal" });
      expect(structured(picked)).toMatchObject({ source: "total = 1 + 2\ntotal = total + 1" });
    });

    it("an execution id the server does not know, an interrupt without a kernel, empty kernels and packages", async () => {
      expect(await toolError("get_results", { execution_id: "no-such-execution" })).toContain("No execution \"no-such-execution\" is known here");
      expect(await toolError("interrupt_kernel")).toContain("nothing to interrupt");
      expect(await toolError("create_notebook", { kernel: " " })).toContain("kernel is empty");
      expect(await toolError("add_dependency", { package: "" })).toContain("Give each package as one requirement");
    });

    it("arguments of the wrong type, missing ones and unknown tools, after which the server still serves", async () => {
      expect(await toolError("get_cell", { cell_id: 3 })).toContain("Input validation error");
      expect(await toolError("execute_cell", {})).toContain("cell_id");
      expect(await toolError("create_cell", { cell_type: "python" })).toContain("cell_type");
      expect(await toolError("no_such_tool")).toContain("no_such_tool not found");
      expect(textOf(await ok("get_cell", { cell_id: codeCell }))).toContain("total = 1 + 2");
    });
  });

  it("closing the client ends the server, which leaves its notebooks and shuts down kernels no one else uses", async () => {
    const notebookId = await newNotebook();
    await newCell("print('last words')", { and_run: true });
    await mcp.close();
    const rooms = await new DaemonClient({ socketPath: room.socketPath }).listRooms();
    expect(rooms).toContainEqual(expect.objectContaining({ notebookId, clients: 0, kernelStatus: "not_started" }));
  });
});
