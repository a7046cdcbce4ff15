/**
 * Quickstart: the daemon starts on its own, a cell runs on a real Python kernel, and its
 * output streams in before the result arrives. On a machine with Node but no Python that has
 * ipykernel, it says so and runs a TypeScript cell on the Deno kernel that npm installed.
 *
 *   npm run quickstart
 */
import { lastValueFrom, share } from "rxjs";
import { RuntimedError, Session, stdout, toResult } from "../lib";

const PYTHON_CELL = "for i in range(3):\n    print(f'line {i}', flush=True)\n6 * 7";
const TYPESCRIPT_CELL = "for (let i = 0; i < 3; i++) console.log(`line ${i}`);\n6 * 7";

async function main(): Promise<void> {
  await using session = new Session({ notebookId: "quickstart" });
  await session.connect();
  console.log(`connected to notebook ${session.notebookId}`);

  let source = PYTHON_CELL;
  try {
    await session.startKernel({ kernelType: "python" });
  } catch (error) {
    // KERNEL_FAILED: no Python kernel can start on this machine; its first line says why and what to install.
    if (!(error instanceof RuntimedError && error.code === "KERNEL_FAILED")) throw error;
    console.log(`${error.message.split("\n")[0]}. Using the Deno kernel instead.`);
    await session.startKernel({ kernelType: "deno" });
    source = TYPESCRIPT_CELL;
  }

  const cellId = session.createCell(source);
  // One execution, watched twice: its stdout as it streams, and its result at the end.
  const execution$ = session.execute(cellId).pipe(share());
  // Chunks may hold several lines: prefix each line, not each chunk.
  execution$.pipe(stdout()).subscribe((text) => process.stdout.write(text.replace(/^(?=.)/gm, "  stdout: ")));
  const result = await lastValueFrom(execution$.pipe(toResult()));
  console.log(`environment: ${session.envSource}`);
  console.log(`success: ${result.success}, execution count: ${result.executionCount}`);
  console.log(`value: ${String(result.displayData[0]?.data["text/plain"])}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
