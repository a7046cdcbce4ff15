import { RuntimedError } from "../index";

/** Where literal text was found: `[start, end)` in UTF-16 code units, as JavaScript strings index. */
export interface TextSpan {
  start: number;
  end: number;
}

/** What to find, and optionally text that must stand before or after it (to pick one of several). */
export interface MatchQuery {
  match: string;
  contextBefore?: string;
  contextAfter?: string;
}

/**
 * Finds the one occurrence of `query.match` in `source` (runtimed's `replace_match` rule). With
 * context, an occurrence qualifies when `contextBefore` appears between the previous occurrence
 * and it, and `contextAfter` between it and the next. No occurrence, or several, is a
 * BAD_REQUEST saying how to narrow it down.
 */
export function findUniqueMatch(source: string, query: MatchQuery, cellId: string): TextSpan {
  const { match } = query;
  if (match === "") throw new RuntimedError("BAD_REQUEST", "match is empty; give the exact text to replace");
  const starts: number[] = [];
  for (let at = source.indexOf(match); at !== -1; at = source.indexOf(match, at + 1)) starts.push(at);
  if (starts.length === 0) {
    throw new RuntimedError("BAD_REQUEST", `No match for ${JSON.stringify(match)} in cell ${cellId} (its source is ${source.length} characters); get_cell shows the exact source`);
  }
  const contextBefore = query.contextBefore || undefined;
  const contextAfter = query.contextAfter || undefined;
  const qualifying = starts.filter((start, index) => {
    const end = start + match.length;
    if (contextBefore !== undefined) {
      const gapStart = index > 0 ? starts[index - 1]! + match.length : 0;
      if (!source.slice(Math.min(gapStart, start), start).includes(contextBefore)) return false;
    }
    if (contextAfter !== undefined) {
      const gapEnd = index + 1 < starts.length ? starts[index + 1]! : source.length;
      if (!source.slice(end, Math.max(gapEnd, end)).includes(contextAfter)) return false;
    }
    return true;
  });
  if (qualifying.length === 1) return { start: qualifying[0]!, end: qualifying[0]! + match.length };
  if (qualifying.length === 0) {
    throw new RuntimedError("BAD_REQUEST", `${JSON.stringify(match)} occurs ${starts.length} times in cell ${cellId}, but none has the given context_before/context_after around it`);
  }
  throw new RuntimedError(
    "BAD_REQUEST",
    `${JSON.stringify(match)} occurs ${qualifying.length} times in cell ${cellId} (at characters ${qualifying.join(", ")}); pass context_before or context_after, or a longer match, to pick one`,
  );
}

/** `source` with `span` replaced by `replacement`. */
export function replaceSpan(source: string, span: TextSpan, replacement: string): string {
  return source.slice(0, span.start) + replacement + source.slice(span.end);
}
