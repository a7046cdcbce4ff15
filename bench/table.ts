/** Prints the benchmark's rows as a Markdown table with numbered notes underneath. */
import type { Row } from "./context";

function format(value: number | null, unit: Row["unit"]): string {
  if (value === null || Number.isNaN(value)) return "n/a";
  const digits = unit === "ms" && value < 100 ? 2 : 1;
  return `${value.toFixed(digits)} ${unit}`;
}

function ratio(value: number | null, floor: number | null): string {
  if (value === null || floor === null || Number.isNaN(value) || Number.isNaN(floor) || floor === 0) return "–";
  return `${(value / floor).toFixed(2)}×`;
}

/** "yes" when ours is slower (or bigger) than @jupyterlab/services on this row; "–" when either is missing. */
export function behindJlab(row: Row): string {
  if (row.ours === null || row.jlab === null || Number.isNaN(row.ours) || Number.isNaN(row.jlab)) return "–";
  return row.ours > row.jlab ? "YES" : "no";
}

/**
 * The table: ours, floor, @jupyterlab/services, ours/floor, target, met?, behind
 * @jupyterlab/services?, note refs. Every figure is "lower is better".
 */
export function renderTable(rows: Row[]): string {
  const notes: string[] = [];
  const noteRef = (row: Row) =>
    row.notes
      .map((note) => {
        let index = notes.indexOf(note);
        if (index < 0) index = notes.push(note) - 1;
        return `[${index + 1}]`;
      })
      .join("");
  const header = ["metric", "ours", "floor", "@jupyterlab/services", "ours/floor", "target", "met?", "behind jlab?", "notes"];
  const body = rows.map((row) => [
    row.metric,
    format(row.ours, row.unit),
    format(row.floor, row.unit),
    format(row.jlab, row.unit),
    ratio(row.ours, row.floor),
    row.target,
    row.met === null ? "–" : row.met ? "yes" : "NO",
    behindJlab(row),
    noteRef(row),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: string[]) => "| " + cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ") + " |";
  return [
    line(header),
    "|" + widths.map((width) => "-".repeat(width + 2)).join("|") + "|",
    ...body.map(line),
    "",
    ...notes.map((note, index) => `[${index + 1}] ${note}`),
  ].join("\n");
}
