import * as fs from "node:fs";
import { StringDecoder } from "node:string_decoder";

const BLOCK_BYTES = 64 * 1024;
const POLL_MS = 200;

/** The last `count` lines of a file (whole lines, each with its newline), and the file's size. */
export function readLastLines(file: string, count: number): { text: string; size: number } {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    // Read backwards a block at a time: a daemon log can be large, the tail we want is not.
    let start = size;
    let tail = Buffer.alloc(0);
    while (start > 0 && countNewlines(tail) <= count) {
      const length = Math.min(BLOCK_BYTES, start);
      start -= length;
      const block = Buffer.alloc(length);
      fs.readSync(fd, block, 0, length, start);
      tail = Buffer.concat([block, tail]);
    }
    const lines = tail.toString("utf8").split("\n");
    const complete = lines.at(-1) === "" ? lines.slice(0, -1) : lines;
    const kept = complete.slice(Math.max(0, complete.length - count));
    return { text: kept.length ? kept.join("\n") + "\n" : "", size };
  } finally {
    fs.closeSync(fd);
  }
}

/** A running follow of a file. */
export interface FileFollower {
  /** Reads what was appended since the last poll, then stops following. */
  stop(): void;
}

/**
 * Calls `onText` with whatever is appended to `file` after `fromOffset`, like `tail -f`. A file
 * that shrinks (truncated, replaced) is read again from its start; a missing file is waited for.
 */
export function followFile(file: string, fromOffset: number, onText: (text: string) => void): FileFollower {
  let offset = fromOffset;
  let reading = false;
  // A read may end inside a multi-byte character; the decoder holds it for the next read.
  const decoder = new StringDecoder("utf8");
  const poll = () => {
    if (reading) return;
    reading = true;
    try {
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        return;
      }
      if (size < offset) offset = 0;
      if (size === offset) return;
      const fd = fs.openSync(file, "r");
      try {
        const chunk = Buffer.alloc(size - offset);
        const read = fs.readSync(fd, chunk, 0, chunk.length, offset);
        offset += read;
        const text = decoder.write(chunk.subarray(0, read));
        if (text) onText(text);
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(poll, POLL_MS);
  poll();
  return {
    stop: () => {
      clearInterval(timer);
      poll();
    },
  };
}

function countNewlines(buffer: Buffer): number {
  let count = 0;
  for (const byte of buffer) if (byte === 0x0a) count++;
  return count;
}
