import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pageUrl } from "../protocol/page-url";
import { Session } from "../index";
import { DaemonClient } from "../transport/daemon-client";
import { UsageError, parseCommandArgs, wantsHelp } from "./args";
import type { CliContext } from "./context";
import { plural } from "./format";

/** Help for `runtimed open`. */
export const openHelp = `Usage: runtimed open [notebook.ipynb] [--browser]

Print the address of the daemon's web page, where notebooks run live in the browser. With a
notebook file, open it into a room first (the room's id is the file's absolute path; a file that
does not exist yet starts empty and is written by the page's Save) and point the address at it.
Starts the daemon if none is running.

Options:
  --browser         Also open the address in the default web browser
  --socket PATH     The daemon's socket
  --cache-dir DIR   The daemon's cache dir
  -h, --help        Show this help

The address holds the daemon's token: whoever has it can run code as you. The page takes it out
of the address bar and keeps it in a cookie only the daemon's own pages send.
`;

const HELP_COMMAND = "runtimed open --help";

/** `runtimed open [notebook.ipynb]`: prints the page's URL (with the token) and opens it on request. */
export async function openCommand(argv: string[], context: CliContext): Promise<number> {
  if (wantsHelp(argv)) {
    context.stdout.write(openHelp);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(argv, { browser: { type: "boolean" } }, HELP_COMMAND);
  if (positionals.length > 1) throw new UsageError(`Open one notebook at a time, not ${positionals.length}`, HELP_COMMAND);
  const where = { socketPath: context.socketPath, cacheDir: context.cacheDir };

  let notebookId: string | undefined;
  if (positionals[0] !== undefined) {
    const file = path.resolve(positionals[0]);
    const exists = fs.existsSync(file);
    const session = await Session.open(file, where);
    try {
      notebookId = session.notebookId;
      const cells = session.getCells().length;
      context.stderr.write(exists ? `Opened ${file} (${plural(cells, "cell")}).\n` : `${file} does not exist yet: the notebook starts empty, and Save writes it there.\n`);
    } finally {
      // The room stays open for the page; this command leaves it (no kernel runs yet).
      await session.close({ shutdownKernel: false });
    }
  }

  const { url, token, cacheDir } = await new DaemonClient({ ...where, autoStart: true }).status();
  const address = pageUrl(url, token, notebookId === undefined ? {} : { notebook: notebookId });
  context.stdout.write(`${address}\n`);
  if (values.browser) {
    const opened = await openInBrowser(address, cacheDir);
    if (opened !== true) context.stderr.write(`Could not open a browser (${opened}): open the address above yourself.\n`);
  }
  return 0;
}

/**
 * Opens `address` in the default browser, as Jupyter does: through a local HTML file (0600, in
 * the daemon's private cache dir) that redirects to it, so the token never appears on a command
 * line where other users' `ps` could read it. Resolves true, or why it could not.
 */
async function openInBrowser(address: string, cacheDir: string): Promise<true | string> {
  const redirect = path.join(cacheDir, "open-page.html");
  const quoted = address.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  fs.writeFileSync(redirect, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${quoted}"><a href="${quoted}">runtimed</a>\n`, { mode: 0o600 });
  fs.chmodSync(redirect, 0o600);
  const target = `file://${redirect}`;
  const [command, ...args] =
    process.platform === "darwin" ? ["open", target] : process.platform === "win32" ? ["cmd", "/c", "start", '""', target] : ["xdg-open", target];
  return new Promise((resolve) => {
    const child = spawn(command!, args, { detached: true, stdio: "ignore" });
    child.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ENOENT" ? `${command} is not installed` : error.message));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
}
