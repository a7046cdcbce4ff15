import { findUniqueMatch, replaceSpan } from "../../lib/mcp/text-match";
import type { RuntimedError } from "../../lib";
import { expectThrownCode } from "../expect-code";

function failure(run: () => unknown): RuntimedError {
  return expectThrownCode(run, "BAD_REQUEST");
}

describe("replace_match's text matching", () => {
  const source = "x = 1\ny = x + 1\nprint(x, y)";

  it("finds a unique occurrence and replaces exactly it", () => {
    const span = findUniqueMatch(source, { match: "print" }, "c");
    expect(replaceSpan(source, span, "repr")).toBe("x = 1\ny = x + 1\nrepr(x, y)");
  });

  it("an absent match names the cell and points at get_cell", () => {
    expect(failure(() => findUniqueMatch(source, { match: "z =" }, "cell-7")).message).toBe('No match for "z =" in cell cell-7 (its source is 27 characters); get_cell shows the exact source');
  });

  it("several occurrences need context; context before and after pick one", () => {
    expect(failure(() => findUniqueMatch(source, { match: "1" }, "c")).message).toContain('"1" occurs 2 times in cell c (at characters 4, 14)');
    expect(findUniqueMatch(source, { match: "1", contextBefore: "+ " }, "c")).toEqual({ start: 14, end: 15 });
    expect(findUniqueMatch(source, { match: "1", contextAfter: "\ny =" }, "c")).toEqual({ start: 4, end: 5 });
    expect(failure(() => findUniqueMatch(source, { match: "1", contextBefore: "nowhere" }, "c")).message).toContain("none has the given context_before/context_after");
  });

  it("context is looked for only between this occurrence and its neighbours", () => {
    // "y" stands before both 1s in the text, but only the second has it in its own gap.
    expect(findUniqueMatch(source, { match: "1", contextBefore: "y" }, "c")).toEqual({ start: 14, end: 15 });
  });

  it("an empty match is refused", () => {
    expect(failure(() => findUniqueMatch(source, { match: "" }, "c")).message).toContain("match is empty");
  });

  it("indexes in UTF-16 code units, as JavaScript strings do", () => {
    const emoji = "a = '🚀'\nb = 'x'";
    const span = findUniqueMatch(emoji, { match: "'x'" }, "c");
    expect(replaceSpan(emoji, span, "'y'")).toBe("a = '🚀'\nb = 'y'");
  });
});
