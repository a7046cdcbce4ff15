import { Terminal } from "@xterm/headless";
import { SerializeAddon } from "@xterm/addon-serialize";
import { TerminalText } from "./terminal-text";

/**
 * Width of the virtual terminal. Lines longer than this wrap inside the terminal and are joined
 * again on the way out; only a `\r` on such a line behaves differently (it returns to the start
 * of the wrapped row, as a real terminal would). Serializing a coloured row costs time in
 * proportion to the width, so it is not made larger than progress bars need.
 */
const COLUMNS = 500;
/** Rows a chunk can reach with cursor-up escapes (e.g. nested progress bars). */
const ROWS = 24;
/**
 * Rows xterm keeps above the viewport. Completed rows are rendered out after each segment but
 * stay in the buffer (clearing it allocates a fresh screen) until CLEAR_AFTER_ROWS of them
 * have piled up. Only a single line longer than SCROLLBACK × COLUMNS characters (5 M) that
 * is then rewritten with `\r` would lose its beginning.
 */
const SCROLLBACK = 10_000;
const CLEAR_AFTER_ROWS = 128;
/** A long chunk is fed to the terminal in segments so completed rows never pile up. */
const SEGMENT_NEWLINES = 256;
const SEGMENT_CHARS = 65_536;

/** Any control character other than `\t` and `\n` (C0, DEL, C1) needs a terminal. */
const NEEDS_TERMINAL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
/** Escapes other than SGR: they may move the cursor up or change the pen in hidden ways. */
const NON_SGR_ESCAPE = /\x1b(?!\[[\d;:]*m)|\x9b/;
const SGR = /\x1b\[([\d;:]*)m/g;

/**
 * Turns the chunks of one stream (one cell, one stream name) into the text a terminal would
 * show, like runtimed does with alacritty_terminal:
 *
 * ```ts
 * const stdout = new StreamTerminal();
 * await stdout.write("[##    ] 30%");
 * await stdout.write("\r[######] 100%\n"); // → "[######] 100%\n"
 * ```
 *
 * - `\r` returns to the start of the line and `\b` moves back one cell, so later text
 *   overwrites; `\n` starts a new line; SGR colours are kept as escape sequences.
 * - Text is kept in two parts: completed lines as a plain string, and the line under the cursor
 *   in a headless xterm. A line is completed once the cursor has moved below it at the end of
 *   a chunk: from then on no `\r` or `\b` can reach it. Cursor-up escapes therefore work within
 *   a chunk but not into lines completed by earlier chunks.
 * - Chunks without control characters (other than `\n` and `\t`) arriving while the terminal
 *   holds nothing unfinished are appended as they are, without the terminal. Such text
 *   round-trips byte for byte, tabs included. Text that passes through the terminal has its
 *   tabs expanded to spaces (to the next multiple of 8), as a terminal shows them.
 */
export class StreamTerminal {
  /** Completed text (kept only without an `onCompleted` sink); ends with `\n` or is empty. */
  private completed = "";
  /** The unfinished last line while the terminal is idle (appended by the fast path). */
  private openLine = "";
  /** The unfinished lines rendered from the terminal while it is not idle. */
  private tail = "";
  /** Whether the terminal holds nothing: cursor at the start of an empty row, default pen. */
  private idle = true;
  private escapePending = false;
  /** False once an escape may have put text below the cursor, until a check finds none. */
  private contentBelowPossible = false;
  /** True when the last SGR written was a reset and nothing else could have changed the pen. */
  private penKnownDefault = true;
  /** Rows above this one are already in `completed`. */
  private liveRow = 0;
  private terminal: Terminal | undefined;
  private renderer: TerminalText | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private disposed = false;

  /**
   * With `onCompleted`, completed lines are handed to it as they complete and not kept: a stream
   * of any size costs the terminal only its unfinished lines.
   */
  constructor(private readonly options: { onCompleted?(text: string): void } = {}) {}

  /** The full current text of the stream (without an `onCompleted` sink: the unfinished lines only). */
  get text(): string {
    return this.completed + this.unfinished;
  }

  /** The unfinished last line(s): what a `\r`, `\b` or cursor move may still rewrite. */
  get unfinished(): string {
    return this.idle ? this.openLine : this.tail;
  }

  /** Applies one chunk of the stream and resolves with the full text after it. */
  write(chunk: string): Promise<string> {
    const appended = this.tryAppend(chunk);
    if (appended !== undefined) return Promise.resolve(appended);
    this.queued++;
    const result = this.queue.then(async () => {
      try {
        if (this.canAppend(chunk)) this.append(chunk);
        else await this.writeThroughTerminal(chunk);
        return this.text;
      } finally {
        this.queued--;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * The fast path: appends `chunk` synchronously and returns the new text when it has no
   * control characters (other than `\n`, `\t`), the terminal holds nothing unfinished and no
   * write is in flight; otherwise returns `undefined` and changes nothing.
   */
  tryAppend(chunk: string): string | undefined {
    if (this.queued > 0 || !this.canAppend(chunk)) return undefined;
    this.append(chunk);
    return this.text;
  }

  private canAppend(chunk: string): boolean {
    return !this.disposed && this.idle && !NEEDS_TERMINAL.test(chunk);
  }

  private append(chunk: string): void {
    const lastNewline = chunk.lastIndexOf("\n");
    if (lastNewline === -1) {
      this.openLine += chunk;
    } else {
      this.complete(this.openLine + chunk.slice(0, lastNewline + 1));
      this.openLine = chunk.slice(lastNewline + 1);
    }
  }

  private complete(text: string): void {
    if (this.options.onCompleted) this.options.onCompleted(text);
    else this.completed += text;
  }

  /** Frees the terminal. Later writes are ignored and resolve with the last text. */
  dispose(): void {
    this.disposed = true;
    this.terminal?.dispose();
    this.terminal = undefined;
    this.renderer = undefined;
  }

  private async writeThroughTerminal(chunk: string): Promise<void> {
    if (this.disposed) return;
    const terminal = this.terminal ?? this.createTerminal();
    // The idle terminal is empty; the fast path's unfinished line must be in it before a `\r`.
    const data = this.idle ? this.openLine + chunk : chunk;
    this.openLine = "";
    this.idle = false;
    for (const segment of segments(data)) {
      this.notePen(segment);
      this.escapePending = endsInsideEscape(this.escapePending, segment);
      await writeTo(terminal, segment);
      if (this.disposed) return;
      this.moveCompletedLinesOut();
    }
    this.renderTail();
  }

  private notePen(segment: string): void {
    if (this.escapePending || NON_SGR_ESCAPE.test(segment)) {
      this.contentBelowPossible = true;
      this.penKnownDefault = false;
      return;
    }
    let lastParameters: string | undefined;
    for (const match of segment.matchAll(SGR)) lastParameters = match[1];
    if (lastParameters !== undefined) this.penKnownDefault = lastParameters === "" || lastParameters === "0";
  }

  private createTerminal(): Terminal {
    const terminal = new Terminal({
      cols: COLUMNS,
      rows: ROWS,
      scrollback: SCROLLBACK,
      convertEol: true,
      // `terminal.buffer` is proposed API in the headless build.
      allowProposedApi: true,
      logLevel: "off",
    });
    const serializer = new SerializeAddon();
    terminal.loadAddon(serializer);
    this.terminal = terminal;
    this.renderer = new TerminalText(terminal.buffer.normal, serializer);
    return terminal;
  }

  /** Moves every row above the cursor's logical line into `completed`. */
  private moveCompletedLinesOut(): void {
    const terminal = this.terminal;
    const renderer = this.renderer;
    if (!terminal || !renderer) return;
    const buffer = terminal.buffer.normal;
    const cursorRow = buffer.baseY + buffer.cursorY;
    if (cursorRow <= this.liveRow) return;
    // A `\r` on a wrapped row returns to that row: its logical line is not complete.
    if (renderer.logicalLineStart(cursorRow) !== cursorRow) return;
    if (this.hasContentBelow(cursorRow)) return;
    this.complete(renderer.renderRows(this.liveRow, cursorRow - 1) + "\n");
    this.liveRow = cursorRow;
    if (this.liveRow >= CLEAR_AFTER_ROWS) {
      // Keeps only the cursor row (nothing is below it), with the cursor and pen as they are.
      terminal.clear();
      this.liveRow = 0;
    }
  }

  private hasContentBelow(row: number): boolean {
    if (!this.contentBelowPossible || !this.renderer) return false;
    const below = this.renderer.lastContentRow(row) > row;
    // Without escapes since this check, the cursor cannot have moved up again.
    if (!below) this.contentBelowPossible = false;
    return below;
  }

  private renderTail(): void {
    const terminal = this.terminal;
    const renderer = this.renderer;
    if (!terminal || !renderer) return;
    const buffer = terminal.buffer.normal;
    const cursorRow = buffer.baseY + buffer.cursorY;
    const end = this.hasContentBelow(cursorRow) ? renderer.lastContentRow(cursorRow) : cursorRow;
    this.tail = renderer.renderRows(this.liveRow, end);
    this.idle =
      this.tail === "" &&
      cursorRow === this.liveRow &&
      buffer.cursorX === 0 &&
      end === cursorRow &&
      !this.escapePending &&
      terminal.buffer.active.type === "normal" &&
      !terminal.modes.insertMode &&
      !terminal.modes.originMode &&
      terminal.modes.wraparoundMode &&
      (this.penKnownDefault || renderer.penIsDefault(cursorRow));
    if (this.idle) this.penKnownDefault = true;
  }
}

/** Writes to the terminal, synchronously when xterm allows it. */
function writeTo(terminal: Terminal, data: string): Promise<void> {
  return new Promise((resolve) => {
    // xterm parses a write in the same tick only right after user input; otherwise it waits for
    // a timer (≥ 1 ms in Node), which would cap a progress bar at ~1000 updates a second.
    // Empty input has no other effect. If xterm changes this, writes just become async.
    terminal.input("", true);
    terminal.write(data, resolve);
  });
}

/** Splits `data` into pieces of at most SEGMENT_NEWLINES lines and SEGMENT_CHARS characters. */
function* segments(data: string): Generator<string> {
  let start = 0;
  // Remembered across segments so a huge line without newlines is scanned once.
  let nextNewline = data.indexOf("\n");
  while (start < data.length) {
    let end = start;
    let lines = 0;
    while (lines < SEGMENT_NEWLINES && nextNewline !== -1 && nextNewline + 1 - start <= SEGMENT_CHARS) {
      end = nextNewline + 1;
      lines++;
      nextNewline = data.indexOf("\n", end);
    }
    if (lines < SEGMENT_NEWLINES) end = Math.min(data.length, Math.max(end, start + SEGMENT_CHARS));
    // Keep surrogate pairs together (xterm copes, but the slice stays valid UTF-16).
    if (end < data.length && end > start + 1 && isHighSurrogate(data.charCodeAt(end - 1))) end--;
    yield data.slice(start, end);
    start = end;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

const COMPLETE_ESCAPE =
  /^(?:\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[ -/]*[0-~])/;

/**
 * Whether the parser may still be inside an escape sequence after `chunk` (a split `ESC[3`),
 * in which case the terminal is not idle. Errs towards "pending", which only costs speed.
 */
function endsInsideEscape(pendingBefore: boolean, chunk: string): boolean {
  const lastEscape = chunk.lastIndexOf("\x1b");
  if (lastEscape === -1) return pendingBefore && !/[\x07@-~]/.test(chunk);
  return !COMPLETE_ESCAPE.test(chunk.slice(lastEscape));
}
