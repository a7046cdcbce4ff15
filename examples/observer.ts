/**
 * Two clients, one notebook: this process starts an observer process that prints what it
 * sees (cells, executions, outputs), then edits and runs cells itself.
 *
 *   npx tsx examples/observer.ts
 */
import { spawn } from "node:child_process";
import { filter, firstValueFrom } from "rxjs";
import { Session } from "../lib";

const notebookId = process.argv[3] ?? `example-observer-${process.pid}`;

/** The observer: joins the notebook and narrates it until the editor says it is done. */
async function observe(): Promise<void> {
  const session = new Session({ notebookId });
  await session.connect();
  let lastSources = "";
  session.cells$.subscribe((cells) => {
    const sources = cells.map((c) => c.source).join(" | ");
    if (sources !== lastSources) console.log(`[observer] cells: ${sources}`);
    lastSources = sources;
  });
  session.events$.subscribe((event) => {
    if (event.type === "execution_started") console.log(`[observer] execution ${event.executionCount} started`);
    if (event.type === "output" && event.output.output_type === "stream") console.log(`[observer] output: ${JSON.stringify(event.output.text)}`);
    if (event.type === "execution_done") {
      const why = event.error ? ` (${event.error.code}: ${event.error.message})` : "";
      console.log(`[observer] execution ${event.executionCount} ${event.success ? "succeeded" : `failed${why}`}`);
    }
  });
  console.log("[observer] ready");
  await firstValueFrom(session.cells$.pipe(filter((cells) => cells.some((c) => c.source === "# done"))));
  await session.close({ shutdownKernel: false });
}

/** The editor: starts the observer, then works in the notebook. */
async function edit(): Promise<void> {
  const observer = spawn(process.execPath, [...process.execArgv, __filename, "observe", notebookId], { stdio: ["ignore", "pipe", "inherit"] });
  observer.stdout.pipe(process.stdout);
  await new Promise<void>((resolve) => observer.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve()));

  const session = new Session({ notebookId });
  const cellId = session.createCell("x = 6");
  await session.executeCell(cellId);
  session.setSource(cellId, "x = 7");
  await session.executeCell(cellId);
  await session.run("print(f'x * 6 = {x * 6}')");
  session.createCell("# done", { cellType: "markdown" });
  await session.flush();
  await new Promise((resolve) => observer.on("exit", resolve));
  await session.close();
}

(process.argv[2] === "observe" ? observe() : edit()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
