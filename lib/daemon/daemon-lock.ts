import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import lockfile from "proper-lockfile";
import { RuntimedError } from "../protocol/errors";
import type { daemonFiles } from "../transport/paths";
import { socketAnswers } from "./daemon-files";

type Files = ReturnType<typeof daemonFiles>;

/** Who holds a daemon lock: written beside it (`daemon.lock.owner`) once the lock is taken. */
interface LockOwner {
  pid: number;
  /** Tells apart two daemons of one process (tests run several in-process). */
  token: string;
  socket: string;
}

/** Tuning for {@link DaemonLock.acquire}; the defaults suit real use, tests shorten them. */
export interface DaemonLockTiming {
  /** How often the holder refreshes the lock's mtime (proper-lockfile's `update`). */
  updateMs?: number;
  /** A lock not refreshed for this long is dead whatever pid its owner record names. */
  staleMs?: number;
}

const UPDATE_MS = 2_000;
const STALE_MS = 15_000;
const POLL_MS = 100;
// proper-lockfile would remove a lock older than `stale` on its own, racing other starters;
// every takeover here goes through `takeOver` instead, so its own staleness never triggers.
const NEVER_STALE_MS = 2 ** 31;
const TAKEOVER_STALE_MS = 5_000;

/** The locks this process holds, by token: what the exit hook cleans up. */
const held = new Map<string, DaemonLock>();
let exitWatched = false;

// proper-lockfile removes its lock directories when the process exits; the owner records must
// go before them (an owner record never outlives its lock), so this hook runs first.
function watchExit(): void {
  if (exitWatched) return;
  exitWatched = true;
  process.prependListener("exit", () => {
    for (const lock of held.values()) lock.forget();
  });
}

/**
 * The lock that makes one daemon own a cache dir: `daemon.lock` is a proper-lockfile lock (a
 * directory made with `mkdir`, its mtime refreshed every 2 s), and `daemon.lock.owner` names
 * the holder's pid and socket. No decision trusts a pid alone, so a pid reused after a reboot
 * never blocks a start: a lock is taken over only when nobody answers on the holder's socket
 * and the holder is gone (its pid no longer exists, or the lock has not been refreshed for
 * 15 s). A legacy `daemon.lock` file (a pid in it, from older versions) counts as gone once
 * nobody answers. Takeovers are serialised by a second lock, so two starters that both find a
 * dead holder never both win.
 */
export class DaemonLock {
  private readonly token = randomBytes(8).toString("hex");
  private release: (() => Promise<void>) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Called when the lock was lost (removed or replaced by someone else) and when it is back. */
  onEvent: (level: "warn" | "error" | "info", message: string, fields?: Record<string, unknown>) => void = () => undefined;

  private constructor(
    private readonly files: Files,
    private readonly socketPath: string,
    private readonly timing: Required<DaemonLockTiming>,
  ) {}

  /**
   * Takes the lock of `files.cacheDir` for a daemon that will serve `socketPath`. Rejects with
   * DAEMON_RUNNING ("already serves", which starters that lost a race look for) when a daemon
   * answers on this socket or on the holder's, and when a live holder keeps its lock fresh for
   * half a minute without ever answering.
   */
  static async acquire(files: Files, socketPath: string, timing: DaemonLockTiming = {}): Promise<DaemonLock> {
    const lock = new DaemonLock(files, socketPath, { updateMs: timing.updateMs ?? UPDATE_MS, staleMs: timing.staleMs ?? STALE_MS });
    const deadline = Date.now() + 2 * lock.timing.staleMs + 5_000;
    for (;;) {
      if (await lock.tryLock()) return lock;
      const holder = lock.inspect();
      if (!holder) continue;
      const serving = await lock.servingDaemon(holder);
      if (serving) throw alreadyServing(serving.pid, serving.socket, socketPath);
      if (lock.isGone(holder)) {
        if (await lock.takeOver(holder)) return lock;
        continue;
      }
      if (Date.now() > deadline) {
        throw new RuntimedError(
          "DAEMON_RUNNING",
          `Process ${holder.owner?.pid ?? "(unknown pid)"} holds the daemon lock of ${files.cacheDir} but does not answer at ${holder.owner?.socket ?? socketPath}; stop it, or remove ${files.lock} if no runtimed daemon runs`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  /** Whether this daemon still holds its lock. */
  get held(): boolean {
    return this.release !== undefined;
  }

  /** Releases the lock (and its owner record), if this daemon still holds it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const release = this.release;
    if (!release) return;
    this.forget();
    await release().catch(() => undefined);
  }

  private async tryLock(): Promise<boolean> {
    try {
      this.release = await lockfile.lock(this.files.lock, {
        lockfilePath: this.files.lock,
        realpath: false,
        stale: NEVER_STALE_MS,
        update: this.timing.updateMs,
        onCompromised: (error) => this.compromised(error),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ELOCKED") return false;
      throw new RuntimedError("INTERNAL", `Could not take the daemon lock ${this.files.lock}: ${(error as Error).message}`, { cause: error });
    }
    // The owner record must exist only while its lock does (see `takeOver`): a lock removed
    // under us already (our event loop stalled) is not ours to describe.
    try {
      fs.chmodSync(this.files.lock, 0o700);
    } catch {
      const release = this.release;
      this.release = undefined;
      await release?.().catch(() => undefined);
      return false;
    }
    const owner: LockOwner = { pid: process.pid, token: this.token, socket: this.socketPath };
    const temp = `${this.files.lock}.owner.${process.pid}.${this.token}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(owner) + "\n", { mode: 0o600 });
    fs.renameSync(temp, ownerPath(this.files));
    held.set(this.token, this);
    watchExit();
    return true;
  }

  /** What holds `daemon.lock` now, or undefined when nothing does (try again). */
  private inspect(): Holder | undefined {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.files.lock);
    } catch {
      return undefined;
    }
    return { legacy: !stat.isDirectory(), mtimeMs: stat.mtimeMs, owner: stat.isDirectory() ? readOwner(this.files) : undefined };
  }

  /** The daemon answering on this socket or on the holder's, if any. */
  private async servingDaemon(holder: Holder): Promise<{ pid: number | undefined; socket: string } | undefined> {
    const advertised = readAdvertised(this.files);
    // An older runtimed's lock names no socket; its daemon.json does.
    const holderSocket = holder.legacy ? advertised?.endpoint : holder.owner?.socket;
    const candidates = new Set([this.socketPath, holderSocket].filter((socket): socket is string => !!socket));
    for (const socket of candidates) {
      if (!(await socketAnswers(socket))) continue;
      const pid = advertised?.endpoint === socket ? advertised.pid : holder.owner?.socket === socket ? holder.owner.pid : undefined;
      return { pid, socket };
    }
    return undefined;
  }

  /** Whether a holder nobody answers for is gone for good. */
  private isGone(holder: Holder): boolean {
    if (holder.legacy) return true;
    const { owner } = holder;
    if (owner && owner.pid === process.pid) return !held.has(owner.token);
    if (owner && !processExists(owner.pid)) return true;
    // A live pid may be a reused one: only a lock its holder stopped refreshing is gone.
    return Date.now() - holder.mtimeMs > this.timing.staleMs;
  }

  /**
   * Replaces a gone holder's lock with ours, under `daemon.lock.takeover` so that of several
   * starters only one removes it; the others find a fresh lock when they look again.
   */
  private async takeOver(seen: Holder): Promise<boolean> {
    let releaseTakeover: () => Promise<void>;
    try {
      releaseTakeover = await lockfile.lock(this.files.lock + ".takeover", {
        lockfilePath: this.files.lock + ".takeover",
        realpath: false,
        stale: TAKEOVER_STALE_MS,
        onCompromised: () => undefined,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ELOCKED") {
        await sleep(POLL_MS);
        return false;
      }
      throw error;
    }
    try {
      const now = this.inspect();
      const unchanged = now && now.legacy === seen.legacy && now.mtimeMs === seen.mtimeMs && now.owner?.token === seen.owner?.token;
      if (!unchanged || !this.isGone(now)) return false;
      // The owner record goes first: one that outlived its lock could name a dead pid for the
      // next holder's lock while that holder has not written its own yet.
      fs.rmSync(ownerPath(this.files), { force: true });
      fs.rmSync(this.files.lock, { recursive: true, force: true });
      return await this.tryLock();
    } finally {
      await releaseTakeover().catch(() => undefined);
    }
  }

  /**
   * proper-lockfile found the lock removed or replaced (after a long-blocked event loop, or
   * someone removed it by hand): keep serving, say so, and take it back when it is free.
   */
  private compromised(error: Error): void {
    this.forget();
    if (this.closed) return;
    this.onEvent("warn", "daemon lock lost; taking it back", { lock: this.files.lock, error: error.message });
    this.retake(0);
  }

  private retake(attempt: number): void {
    this.retryTimer = setTimeout(() => {
      void (async () => {
        if (this.closed) return;
        let holder: Holder | undefined;
        try {
          let taken = await this.tryLock();
          holder = taken ? undefined : this.inspect();
          // We are the daemon answering on our socket: only the holder's liveness counts here.
          if (holder && this.isGone(holder)) taken = await this.takeOver(holder);
          if (taken && this.closed) return void (await this.close());
          if (taken) return this.onEvent("info", "daemon lock taken back", { lock: this.files.lock });
          if (attempt === 0) this.onEvent("error", "another process holds this cache dir's daemon lock; serving on, retrying", { lock: this.files.lock, holder: holder?.owner });
        } catch (error) {
          if (attempt === 0) this.onEvent("error", "could not take the daemon lock back; retrying", { error: (error as Error).message });
        }
        this.retake(attempt + 1);
      })();
    }, attempt === 0 ? 0 : this.timing.updateMs);
    this.retryTimer.unref();
  }

  /** Stops counting as the holder and removes this daemon's owner record (the exit hook's part). */
  forget(): void {
    this.release = undefined;
    held.delete(this.token);
    if (readOwner(this.files)?.token === this.token) fs.rmSync(ownerPath(this.files), { force: true });
  }
}

interface Holder {
  /** `daemon.lock` is a file: a pid written by an older runtimed. */
  legacy: boolean;
  mtimeMs: number;
  owner: LockOwner | undefined;
}

function ownerPath(files: Files): string {
  return files.lock + ".owner";
}

function readOwner(files: Files): LockOwner | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(ownerPath(files), "utf8")) as Partial<LockOwner>;
    if (typeof value.pid === "number" && typeof value.token === "string" && typeof value.socket === "string") return value as LockOwner;
  } catch {
    // missing (the holder has not written it yet) or unreadable: unknown owner
  }
  return undefined;
}

function readAdvertised(files: Files): { pid: number; endpoint: string } | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(files.info, "utf8")) as { pid?: unknown; endpoint?: unknown };
    if (typeof info.pid === "number" && typeof info.endpoint === "string") return { pid: info.pid, endpoint: info.endpoint };
  } catch {
    // no daemon advertised
  }
  return undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function alreadyServing(pid: number | undefined, servedSocket: string, socketPath: string): RuntimedError {
  const who = `A runtimed daemon${pid ? ` (pid ${pid})` : ""}`;
  const where = servedSocket === socketPath ? socketPath : `${servedSocket} from the same cache dir as ${socketPath}`;
  return new RuntimedError(
    "DAEMON_RUNNING",
    `${who} already serves ${where}; stop it with \`npx runtimed daemon stop\` or use another RUNTIMED_SOCKET_PATH`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
