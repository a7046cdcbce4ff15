/**
 * Quickstart: the daemon starts on its own, a cell runs on a real Python kernel, and its
 * output streams in before the result arrives.
 *
 *   npm run quickstart
 */
import { lastValueFrom, share } from "rxjs";
import { Session, stdout, toResult } from "../lib";

async function main(): Promise<void> {
  await using session = new Session({ notebookId: "quickstart" });
  await session.connect();
  console.log(`connected to notebook ${session.notebookId}`);

  const cellId = session.createCell("import sys\nfor i in range(3):\n    print(f'line {i}', flush=True)\n6 * 7");
  // One execution, watched twice: its stdout as it streams, and its result at the end.
  const execution$ = session.execute(cellId).pipe(share());
  // Chunks may hold several lines: prefix each line, not each chunk.
  execution$.pipe(stdout()).subscribe((text) => process.stdout.write(text.replace(/^(?=.)/gm, "  stdout: ")));
  const result = await lastValueFrom(execution$.pipe(toResult()));
  console.log(`environment: ${session.envSource}`);
  console.log(`success: ${result.success}, execution count: ${result.executionCount}`);
  console.log(`value: ${JSON.stringify(result.displayData[0]?.data["text/plain"])}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
