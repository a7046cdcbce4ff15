/** Prints the benchmark's rows as a plain-text table with numbered notes underneath. */
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

/** The table as text: ours, floor, peer, ours/floor, peer/floor, target, met?, note refs. */
export function renderTable(rows: Row[], peerUnavailable: string | null): string {
  const notes: string[] = [];
  const noteRef = (row: Row) =>
    row.notes
      .map((note) => {
        let index = notes.indexOf(note);
        if (index < 0) index = notes.push(note) - 1;
        return `[${index + 1}]`;
      })
      .join("");
  const peerCell = (row: Row) => (row.peer === null && peerUnavailable && row.floor !== null ? "n/a (jupyter_client not importable)" : format(row.peer, row.unit));
  const header = ["metric", "ours", "floor", "peer", "ours/floor", "peer/floor", "target", "met?", "notes"];
  const body = rows.map((row) => [
    row.metric,
    format(row.ours, row.unit),
    format(row.floor, row.unit),
    peerCell(row),
    ratio(row.ours, row.floor),
    ratio(row.peer, row.floor),
    row.target,
    row.met === null ? "–" : row.met ? "yes" : "NO",
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
