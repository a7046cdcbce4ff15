/**
 * Keeping a person's selection where it was when another client's edit replaces the text of the
 * textarea they are typing in. Pure (no DOM), so it is unit-tested in Node.
 */

/** The part of a text that an edit replaced: `[start, beforeEnd)` became `[start, afterEnd)`. */
export interface ChangedRange {
  start: number;
  beforeEnd: number;
  afterEnd: number;
}

/**
 * The smallest range that differs between `before` and `after`: their common prefix and suffix
 * are left out (the suffix never overlaps the prefix). When the change is ambiguous (typing "a"
 * into "aa"), it is placed as late as the common prefix allows.
 */
export function changedRange(before: string, after: string): ChangedRange {
  const shorter = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < shorter - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  return { start: prefix, beforeEnd: before.length - suffix, afterEnd: after.length - suffix };
}

/**
 * Where an offset into `before` lands in `after`: before the change it stays, after it moves by
 * the change's growth, and inside replaced text it goes to the end of what replaced it (the
 * start, for a deletion).
 */
export function mapOffset(range: ChangedRange, offset: number): number {
  if (offset <= range.start) return offset;
  if (offset >= range.beforeEnd) return offset + (range.afterEnd - range.beforeEnd);
  return Math.min(offset, range.afterEnd);
}

/** A selection `[start, end]` in `before`, mapped into `after`. */
export function mapSelection(before: string, after: string, start: number, end: number): [number, number] {
  const range = changedRange(before, after);
  return [mapOffset(range, start), mapOffset(range, end)];
}
