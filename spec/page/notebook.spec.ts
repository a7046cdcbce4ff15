/**
 * A notebook shared by the page (in Chromium, over the WebSocket) and a Node `Session` (over the
 * Unix socket): edits and executions from either side show on the other, live.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { filter, firstValueFrom, timeout } from "rxjs";
import { Session } from "../../lib/session/session";
import { cellLocator, describeInChromium, eventually, openNotebook } from "./page-harness";

jest.setTimeout(240_000);

// Ten steps of a `\r` progress bar, flushed one by one, slow enough to be seen in between.
const PROGRESS_BAR = [
  "import time",
  "for step in range(1, 11):",
  "    print(f'\\rstep {step}/10', end='', flush=True)",
  "    time.sleep(0.4)",
  "print()",
].join("\n");

describeInChromium("a notebook on the page and in Node", (harness) => {
  it("an edit typed in the page reaches a Node session, a Node edit reaches the page's textarea, and the caret stays put", async () => {
    const session = await harness().nodeSession("page-edits");
    const cellId = session.createCell("x = 1\ny = 2");
    await session.flush();
    const page = await harness().newPage();
    await openNotebook(page, harness(), "page-edits");
    const textarea = cellLocator(page, cellId).locator("textarea");
    await textarea.click();
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("End");
    await page.keyboard.type(" + 2");
    await eventually(async () => (await session.sync(), session.getCell(cellId).source), "x = 1 + 2\ny = 2");

    // While the page's caret sits at the end of the first line, Node inserts a line above it.
    session.setSource(cellId, "# from node\nx = 1 + 2\ny = 2");
    await session.flush();
    await eventually(() => textarea.inputValue(), "# from node\nx = 1 + 2\ny = 2");
    await page.keyboard.type(" + 3");
    await eventually(async () => (await session.sync(), session.getCell(cellId).source), "# from node\nx = 1 + 2 + 3\ny = 2");
    expect(await textarea.inputValue()).toBe("# from node\nx = 1 + 2 + 3\ny = 2");
  });

  it("a cell typed and run in the page (Shift+Enter) is executed: a Node session sees its outputs and execution count", async () => {
    const session = await harness().nodeSession("page-run");
    const cellId = session.createCell("");
    await session.flush();
    const page = await harness().newPage();
    await openNotebook(page, harness(), "page-run");
    await cellLocator(page, cellId).locator("textarea").click();
    await page.keyboard.type("print(6 * 7)");
    await page.keyboard.press("Shift+Enter");
    const cell = await firstValueFrom(
      session.cell$(cellId).pipe(
        filter((candidate) => candidate.executionCount !== null && candidate.outputs.length > 0),
        timeout(150_000),
      ),
    );
    expect(cell).toMatchObject({ source: "print(6 * 7)", executionCount: 1, outputs: [{ output_type: "stream", name: "stdout", text: "42\n" }] });
    // The page shows the same, and kept the Shift+Enter out of the source.
    await cellLocator(page, cellId).locator(".output-stream", { hasText: "42" }).waitFor();
    await eventually(() => cellLocator(page, cellId).locator(".prompt").innerText(), "[1]");
  });

  it("a `\\r` progress bar run from Node streams into the page while the cell runs, and ends as one line", async () => {
    const session = await harness().nodeSession("page-progress");
    const cellId = session.createCell(PROGRESS_BAR);
    await session.startKernel();
    const page = await harness().newPage();
    await openNotebook(page, harness(), "page-progress");
    const cell = cellLocator(page, cellId);
    await cell.waitFor();

    const result = session.executeCell(cellId, { timeoutSecs: 150 });
    // One query, so text and state are read at the same moment: a step before the last one,
    // shown while the page marks the cell as running.
    const partial = page.locator(`.cell[data-cell-id="${cellId}"][data-state=running] .output-stream`).filter({ hasText: /step [1-9]\/10/ });
    await partial.waitFor({ timeout: 150_000 });
    expect((await result).success).toBe(true);

    await cell.locator(".output-stream", { hasText: "step 10/10" }).waitFor();
    await eventually(() => cell.getAttribute("data-state"), "idle");
    expect(await cell.locator(".output-stream").count()).toBe(1);
    expect((await cell.locator(".output-stream").innerText()).trim()).toBe("step 10/10");
  });

  it("Interrupt from the page stops a running cell; Restart gives the room a fresh kernel", async () => {
    const session = await harness().nodeSession("page-kernel");
    const sleeper = session.createCell("import time\nremembered = True\ntime.sleep(120)");
    await session.flush();
    const page = await harness().newPage();
    await openNotebook(page, harness(), "page-kernel");
    await cellLocator(page, sleeper).locator(".run").click();
    await page.locator(`.cell[data-cell-id="${sleeper}"][data-state=running]`).waitFor({ timeout: 150_000 });
    await page.getByRole("button", { name: "Interrupt" }).click();
    const interrupted = await firstValueFrom(
      session.cell$(sleeper).pipe(
        filter((cell) => cell.outputs.some((output) => output.output_type === "error")),
        timeout(60_000),
      ),
    );
    expect(interrupted.outputs).toContainEqual(expect.objectContaining({ output_type: "error", ename: "KeyboardInterrupt" }));
    await cellLocator(page, sleeper).locator(".output-error", { hasText: "KeyboardInterrupt" }).waitFor();

    // Restart: the status goes through "restarting" back to "idle", and the old globals are gone.
    const seen: string[] = [];
    const watching = session.kernelStatus$.subscribe((status) => seen.push(status));
    try {
      await page.getByRole("button", { name: "Restart" }).click();
      await eventually(() => seen.includes("restarting") && seen.at(-1) === "idle", true, 120_000);
    } finally {
      watching.unsubscribe();
    }
    expect((await session.run("print('remembered' in globals())", { timeoutSecs: 120 })).stdout).toBe("False\n");
  });

  it("a notebook opened from a file (as `runtimed open` does) is saved from the page with Save", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-page-save-"));
    try {
      const file = path.join(dir, "saved.ipynb");
      const { socketPath, cacheDir } = harness().room;
      const opener = await Session.open(file, { socketPath, cacheDir, autoStart: false });
      const cellId = opener.createCell("answer = 42");
      await opener.close({ shutdownKernel: false });

      const page = await harness().newPage();
      await openNotebook(page, harness(), file);
      const textarea = cellLocator(page, cellId).locator("textarea");
      await textarea.click();
      await page.keyboard.press("End");
      await page.keyboard.type("  # from the page");
      await page.getByRole("button", { name: "Save" }).click();
      await page.locator(".message.notice", { hasText: `Saved ${file}` }).waitFor();
      const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: { source: string[] }[] };
      expect(saved.cells.map((cell) => cell.source.join(""))).toEqual(["answer = 42  # from the page"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
