import type { IBuffer, IBufferCell, IBufferLine } from "@xterm/headless";
import type { SerializeAddon } from "@xterm/addon-serialize";

/**
 * Renders rows of a headless xterm buffer as notebook text: one logical line (a row plus the
 * rows that wrap from it) per `\n`-separated line, SGR colours kept, cursor moves dropped.
 *
 * Each row is rendered from its cells (not with the serialize addon, whose cost grows with
 * the terminal width and which encodes gaps and wraps as cursor moves a text reader cannot
 * follow). Every row ends with its styles closed (`ESC[0m`), so rendered pieces can be
 * concatenated in any order. The serialize addon is used only to read the current pen.
 */
export class TerminalText {
  private readonly cell: IBufferCell;

  constructor(
    private readonly buffer: IBuffer,
    private readonly serializer: SerializeAddon,
  ) {
    this.cell = buffer.getNullCell();
  }

  /** The logical lines that start in rows `from..to` (inclusive), joined by `\n`. */
  renderRows(from: number, to: number): string {
    const lines: string[] = [];
    let current = "";
    for (let row = from; row <= to; row++) {
      const line = this.buffer.getLine(row);
      if (!line) continue;
      if (row > from && !line.isWrapped) {
        lines.push(current);
        current = "";
      }
      current += this.renderRow(line);
    }
    lines.push(current);
    return lines.join("\n");
  }

  /** The first row of the logical line that contains `row`. */
  logicalLineStart(row: number): number {
    let start = row;
    while (start > 0 && this.buffer.getLine(start)?.isWrapped) start--;
    return start;
  }

  /** The last row at or after `from` that has any written cell, or `from` if none has. */
  lastContentRow(from: number): number {
    for (let row = this.buffer.length - 1; row > from; row--) {
      if (this.buffer.getLine(row)?.translateToString(true)) return row;
    }
    return from;
  }

  /**
   * Whether an empty row would carry a non-default pen: the addon appends the SGR that restores
   * the cursor's current style, so an empty row serializes to "" only when the pen is default.
   */
  penIsDefault(emptyRow: number): boolean {
    return this.serializer.serialize({ range: { start: emptyRow, end: emptyRow } }) === "";
  }

  /**
   * One row as text: written cells in order, a space for each gap, and SGR parameters wherever
   * the style changes (closed with `ESC[0m` at the end). Walks only the written cells, the way
   * `translateToString` does, so the cost follows the text, not the terminal width.
   */
  private renderRow(line: IBufferLine): string {
    const text = line.translateToString(true);
    if (text === "") return "";
    let out = "";
    let style = "";
    let consumed = 0;
    for (let x = 0; consumed < text.length && x < line.length; ) {
      const cell = line.getCell(x, this.cell);
      if (!cell) break;
      const chars = cell.getChars() || " ";
      const cellStyle = cell.isAttributeDefault() ? "" : sgrParameters(cell);
      if (cellStyle !== style) {
        out += cellStyle === "" ? "\x1b[0m" : style === "" ? `\x1b[${cellStyle}m` : `\x1b[0;${cellStyle}m`;
        style = cellStyle;
      }
      out += chars;
      consumed += chars.length;
      x += cell.getWidth() || 1;
    }
    return style === "" ? out : `${out}\x1b[0m`;
  }
}

/** The SGR parameters that select a cell's style from the default pen. */
function sgrParameters(cell: IBufferCell): string {
  const parameters: string[] = [];
  if (cell.isBold()) parameters.push("1");
  if (cell.isDim()) parameters.push("2");
  if (cell.isItalic()) parameters.push("3");
  if (cell.isUnderline()) parameters.push("4");
  if (cell.isBlink()) parameters.push("5");
  if (cell.isInverse()) parameters.push("7");
  if (cell.isInvisible()) parameters.push("8");
  if (cell.isStrikethrough()) parameters.push("9");
  if (cell.isOverline()) parameters.push("53");
  if (cell.isFgPalette()) parameters.push(paletteColor(cell.getFgColor(), 30, 90, 38));
  else if (cell.isFgRGB()) parameters.push(rgbColor(cell.getFgColor(), 38));
  if (cell.isBgPalette()) parameters.push(paletteColor(cell.getBgColor(), 40, 100, 48));
  else if (cell.isBgRGB()) parameters.push(rgbColor(cell.getBgColor(), 48));
  return parameters.join(";");
}

function paletteColor(index: number, base: number, brightBase: number, extended: number): string {
  if (index < 8) return String(base + index);
  if (index < 16) return String(brightBase + index - 8);
  return `${extended};5;${index}`;
}

function rgbColor(rgb: number, extended: number): string {
  return `${extended};2;${(rgb >> 16) & 0xff};${(rgb >> 8) & 0xff};${rgb & 0xff}`;
}
