/**
 * A multi-cell pipeline as one composed observable: load -> transform -> plot. Each cell's
 * output streams as it arrives; the pipeline stops at the first failing cell.
 *
 *   npx tsx examples/pipeline.ts
 */
import { lastValueFrom, share } from "rxjs";
import { Session, displayData, stdout, summarize } from "../lib";

const load = `
import random
random.seed(7)
rows = [{"day": d, "visits": random.randint(50, 150)} for d in range(1, 8)]
print(f"loaded {len(rows)} rows")
`;

const transform = `
weekly = sum(r["visits"] for r in rows)
peak = max(rows, key=lambda r: r["visits"])
print(f"weekly visits: {weekly}, peak on day {peak['day']}")
`;

const plot = `
from IPython.display import SVG, display
bars = "".join(
    f'<rect x="{i * 22}" y="{160 - r["visits"]}" width="18" height="{r["visits"]}" fill="steelblue"/>'
    for i, r in enumerate(rows)
)
display(SVG(f'<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160">{bars}</svg>'))
`;

async function main(): Promise<void> {
  await using session = new Session({ notebookId: `example-pipeline-${process.pid}` });
  const cellIds = [load, transform, plot].map((source) => session.createCell(source));

  const pipeline$ = session.executeAll(cellIds).pipe(share());
  pipeline$.pipe(stdout()).subscribe((text) => process.stdout.write(`  | ${text}`));
  pipeline$.pipe(displayData()).subscribe((display) => console.log(`  | rich output: ${Object.keys(display.data).join(", ")}`));
  const results = await lastValueFrom(pipeline$.pipe(summarize()));

  for (const result of results) console.log(`cell ${result.executionCount}: ${result.success ? "ok" : result.error?.ename}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
