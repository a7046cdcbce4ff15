import { changedRange, mapSelection } from "../../lib/page/caret";

describe("keeping the caret when another client edits the text", () => {
  it("finds the smallest changed range between two texts", () => {
    expect(changedRange("x = 1", "x = 12")).toEqual({ start: 5, beforeEnd: 5, afterEnd: 6 });
    expect(changedRange("abcdef", "abXYef")).toEqual({ start: 2, beforeEnd: 4, afterEnd: 4 });
    expect(changedRange("same", "same")).toEqual({ start: 4, beforeEnd: 4, afterEnd: 4 });
  });

  it("a caret after an insertion moves right by its length, one before it stays", () => {
    const before = "x = 1\ny = 2";
    const after = "# note\nx = 1\ny = 2";
    expect(mapSelection(before, after, 5, 5)).toEqual([12, 12]);
    expect(mapSelection("x = 1 + 2", "x = 1 + 2  # done", 3, 3)).toEqual([3, 3]);
  });

  it("a caret inside deleted text goes to where the deletion was", () => {
    expect(mapSelection("hello brave world", "hello world", 9, 9)).toEqual([6, 6]);
  });

  it("a selection keeps covering the same characters", () => {
    const before = "print(value)";
    const after = ">>> print(value)";
    expect(mapSelection(before, after, 6, 11)).toEqual([10, 15]);
    expect(after.slice(10, 15)).toBe("value");
  });

  it("an ambiguous insertion among repeated characters keeps a caret before it in place", () => {
    // "aa" → "aaa": the change is placed as late as possible, so a caret at 1 stays at 1.
    expect(mapSelection("aa", "aaa", 1, 1)).toEqual([1, 1]);
    expect(mapSelection("aa", "aaa", 2, 2)).toEqual([2, 2]);
  });
});
