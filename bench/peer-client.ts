/**
 * Drives bench/peer.py (jupyter_client) over JSON lines. The peer times itself in Python; this
 * side only sends commands, so the pipe never enters a measurement.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { KERNEL_PYTHON } from "./floor-client";

/** An answer from the peer: `ok` plus whatever the command returns. */
export type PeerAnswer = { ok: true; samples?: number[]; ms?: number; stdout_length?: number } | { ok: false; error: string };

/** The running peer process, or why there is none. */
export class PeerClient {
  private readonly answers: ((answer: PeerAnswer) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly child: ChildProcess,
    /** Null when jupyter_client imports; otherwise why the peer column is "n/a". */
    readonly unavailable: string | null,
  ) {}

  /** Starts peer.py with a kernelspec that launches the same ipykernel as the other clients. */
  static async start(workDir: string): Promise<PeerClient> {
    const specDir = path.join(workDir, "jupyter", "kernels", "bench-python");
    fs.mkdirSync(specDir, { recursive: true });
    fs.writeFileSync(
      path.join(specDir, "kernel.json"),
      JSON.stringify({
        argv: [KERNEL_PYTHON, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name: "bench python",
        language: "python",
        env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" },
      }),
    );
    const child = spawn(KERNEL_PYTHON, [path.join(__dirname, "peer.py")], {
      env: { ...process.env, JUPYTER_PATH: path.join(workDir, "jupyter"), JUPYTER_RUNTIME_DIR: path.join(workDir, "runtime"), PYDEVD_DISABLE_FILE_VALIDATION: "1" },
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = readline.createInterface({ input: child.stdout! });
    const first = await new Promise<{ ready: boolean; error?: string }>((resolve, reject) => {
      lines.once("line", (line) => resolve(JSON.parse(line) as { ready: boolean; error?: string }));
      child.once("exit", (code) => reject(new Error(`peer.py exited with ${code} before answering`)));
    });
    const peer = new PeerClient(child, first.ready ? null : `jupyter_client not importable: ${first.error ?? "unknown"}`);
    lines.on("line", (line) => peer.answers.shift()?.(JSON.parse(line) as PeerAnswer));
    child.on("exit", () => {
      for (const answer of peer.answers.splice(0)) answer({ ok: false, error: "peer.py exited" });
    });
    return peer;
  }

  get available(): boolean {
    return this.unavailable === null;
  }

  /** Sends one command; commands run one at a time, in order. */
  call(command: Record<string, unknown>): Promise<PeerAnswer> {
    const next = this.queue.then(
      () =>
        new Promise<PeerAnswer>((resolve) => {
          this.answers.push(resolve);
          this.child.stdin!.write(JSON.stringify(command) + "\n");
        }),
    );
    this.queue = next;
    return next;
  }

  /** Like `call`, but throws the peer's error. */
  async expect(command: Record<string, unknown>): Promise<{ samples?: number[]; ms?: number; stdout_length?: number }> {
    const answer = await this.call(command);
    if (!answer.ok) throw new Error(`peer ${String(command.op)}: ${answer.error}`);
    return answer;
  }

  /** Closes stdin (peer.py shuts its kernels down and exits), killing it after a grace period. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Last-resort synchronous kill (process exit). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}
