/**
 * The daemon's entry point with the wire tap installed (bench-only): `node --import tsx
 * bench/trace/daemon-entry.ts --socket S --cache-dir D` with `BENCH_TAP_FILE` set. Runs
 * lib/daemon/main.ts unchanged and writes what the tap saw to that file when the daemon exits.
 */
import * as fs from "node:fs";
import { installTap } from "./tap";

const file = process.env.BENCH_TAP_FILE;
if (!file) throw new Error("BENCH_TAP_FILE is not set");
const tap = installTap();
process.on("exit", () => fs.writeFileSync(file, JSON.stringify(tap.decode())));
require("../../lib/daemon/main");
