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
 * Calls `onText` with whatever is appended to `file` after `fromOffset`, like `tail -F`. When
 * the file is rotated (renamed away, a new one created in its place) the rest of the old file
 * is read, then the new one from its start; a file that shrinks (truncated) is read again from
 * its start; a missing file is waited for.
 */
export function followFile(file: string, fromOffset: number, onText: (text: string) => void): FileFollower {
  let current: { fd: number; ino: number } | undefined;
  let offset = fromOffset;
  let reading = false;
  // A read may end inside a multi-byte character; the decoder holds it for the next read.
  const decoder = new StringDecoder("utf8");
  const drain = () => {
    if (!current) return;
    const size = fs.fstatSync(current.fd).size;
    if (size < offset) offset = 0;
    if (size === offset) return;
    const chunk = Buffer.alloc(size - offset);
    const read = fs.readSync(current.fd, chunk, 0, chunk.length, offset);
    offset += read;
    const text = decoder.write(chunk.subarray(0, read));
    if (text) onText(text);
  };
  const close = () => {
    if (current) fs.closeSync(current.fd);
    current = undefined;
  };
  const poll = () => {
    if (reading) return;
    reading = true;
    try {
      drain();
      let ino: number;
      try {
        ino = fs.statSync(file).ino;
      } catch {
        return;
      }
      if (current?.ino === ino) return;
      // First sight of the file, or a new file in its place: the old one is read to its end.
      if (current) offset = 0;
      close();
      try {
        const fd = fs.openSync(file, "r");
        current = { fd, ino: fs.fstatSync(fd).ino };
      } catch {
        return;
      }
      drain();
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
      close();
    },
  };
}

function countNewlines(buffer: Buffer): number {
  let count = 0;
  for (const byte of buffer) if (byte === 0x0a) count++;
  return count;
}
