import { Terminal } from "@xterm/headless";
import { from, lastValueFrom, toArray } from "rxjs";
import { StreamTerminal } from "../../lib/outputs/stream-terminal";
import { stdout } from "../../lib/session/operators";
import type { ExecutionEvent } from "../../lib/session/types";
import { eventsOf, stream } from "./execution-events";

const run = eventsOf("cell-1");

/** The output events the daemon sends for these stdout chunks: its terminal's text after each. */
async function daemonEvents(chunks: string[]): Promise<{ events: ExecutionEvent[]; finalText: string }> {
  const daemonTerminal = new StreamTerminal();
  try {
    const events: ExecutionEvent[] = [];
    for (const chunk of chunks) events.push(run.output(0, stream("stdout", await daemonTerminal.write(chunk))));
    return { events, finalText: daemonTerminal.text };
  } finally {
    daemonTerminal.dispose();
  }
}

/** What a user's terminal (a tty turns `\n` into `\r\n`) shows after every emission of stdout() was written to it. */
async function userScreen(emissions: string[]): Promise<string> {
  const terminal = new Terminal({ cols: 120, rows: 24, allowProposedApi: true, convertEol: true });
  try {
    for (const emission of emissions) await new Promise<void>((resolve) => terminal.write(emission, resolve));
    const buffer = terminal.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < buffer.length; row++) lines.push(buffer.getLine(row)?.translateToString(true) ?? "");
    return lines.join("\n").replace(/\n+$/, "");
  } finally {
    terminal.dispose();
  }
}

async function roundTrip(chunks: string[]): Promise<{ screen: string; finalText: string; emissions: string[] }> {
  const { events, finalText } = await daemonEvents(chunks);
  const emissions = await lastValueFrom(from(events).pipe(stdout(), toArray()));
  return { screen: await userScreen(emissions), finalText: finalText.replace(/\n+$/, ""), emissions };
}

describe("stdout() written to a terminal", () => {
  it("shows a \\r progress bar as its last frame, as the daemon's terminal does", async () => {
    const frames = [0, 30, 60, 100].map((percent) => `\r[${"#".repeat(percent / 10).padEnd(10)}] ${percent}%`);
    const { screen, finalText, emissions } = await roundTrip(["downloading\n", ...frames, "\ndone\n"]);
    expect(screen).toBe(finalText);
    expect(screen).toBe("downloading\n[##########] 100%\ndone");
    // Every redraw is a rewrite of the line, never the whole text again.
    expect(emissions.slice(2, 5).every((emission) => emission.startsWith("\r["))).toBe(true);
  });

  it("shows a line that got shorter without the end of its longer predecessor", async () => {
    const { screen, finalText } = await roundTrip(["epoch 1\n", "loss 0.75", "\r\x1b[Kloss 0.5"]);
    expect(screen).toBe(finalText);
    expect(screen).toBe("epoch 1\nloss 0.5");
  });

  it("shows nested progress bars that redraw the line above the cursor", async () => {
    // The way tqdm draws a second bar: below the first, then back up to the first line.
    const chunks = ["total 10%", "\n\rfile 50%\x1b[A\r", "total 20%", "\n\rfile 90%\x1b[A\r", "total 30%"];
    const { screen, finalText, emissions } = await roundTrip(chunks);
    expect(screen).toBe(finalText);
    expect(screen).toBe("total 30%\nfile 90%");
    // The first line changed while the cursor was on the second: the emission climbs one line.
    expect(emissions).toContain("\x1b[1F\x1b[Jtotal 20%\nfile 50%");
  });
});

