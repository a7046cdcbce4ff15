/**
 * A progress bar rendered live in this terminal: the kernel redraws one line with `\r`, the
 * daemon merges the frames like a terminal, and `stdout()` hands over exactly what to write.
 *
 *   npx tsx examples/stream-progress.ts
 */
import { lastValueFrom, share } from "rxjs";
import { Session, stdout, toResult } from "../lib";

const code = `
import sys, time
total = 40
for step in range(total + 1):
    filled = step * 30 // total
    sys.stdout.write(f"\\rtraining [{'#' * filled}{'.' * (30 - filled)}] {step * 100 // total:3d}%")
    sys.stdout.flush()
    time.sleep(0.05)
print("\\ndone")
`;

async function main(): Promise<void> {
  await using session = new Session({ notebookId: "example-stream-progress" });
  const cellId = session.createCell(code);
  const execution$ = session.execute(cellId).pipe(share());
  execution$.pipe(stdout()).subscribe((text) => process.stdout.write(text));
  const result = await lastValueFrom(execution$.pipe(toResult()));
  // The document keeps the bar as a terminal would show it: its last frame.
  console.log(`stored output: ${JSON.stringify(result.stdout)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
