import * as fs from "node:fs";
import * as path from "node:path";
import { runTsFile, useTestDaemon } from "./integration/harness";

jest.setTimeout(120_000);

const root = path.join(__dirname, "..");
const testDaemon = useTestDaemon();

/** The first ```ts block after a README heading. */
function codeAfter(heading: string): string {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(start));
  return match![1]!;
}

async function runTs(source: string) {
  // Written beside lib/ so that "runtimed" can point at the sources.
  const file = path.join(root, `.readme-tour-${process.pid}.ts`);
  fs.writeFileSync(file, source.replace(/from "runtimed"/g, 'from "./lib"'));
  try {
    return await runTsFile(file, testDaemon(), 100_000);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe("README", () => {
  it("the API tour runs as written and prints what its comments say", async () => {
    const { code, stdout, stderr } = await runTs(codeAfter("## A tour of the API"));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("true 2 sorted: [1, 1, 3, 4, 5]\n");
    expect(stdout).toContain("step 0\nstep 1\nstep 2\n1\n");
    expect(stdout).toContain("false ZeroDivisionError");
    expect(stdout).toContain("kernel: idle");
    expect(stdout).toContain("4 venv:prewarmed");
  });

  it("names the two commands and the test command CI runs", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    expect(readme).toContain("npm install && npm run quickstart");
    expect(readme).toContain("npm test");
    expect(fs.readFileSync(path.join(root, ".ci", "run"), "utf8")).toContain("npm test");
  });
});
