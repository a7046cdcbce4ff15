import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DaemonClient, RuntimedError, Session, type RoomListing } from "../index";

/** Which daemon the server's sessions join (the CLI's `--socket` / `--cache-dir`). */
export interface DaemonAddress {
  socketPath: string;
  cacheDir: string;
}

/** What a tool says when no notebook is open yet: which tool to call first. */
export const NO_NOTEBOOK_OPEN =
  "No notebook is open yet. Call create_notebook to start a new one, or open_notebook with a notebook_id (list_active_notebooks shows them) or the path of an .ipynb file.";

/** A path as a person types it: `~/x.ipynb` is in the home directory, relative paths are from the server's working directory. */
export function resolveUserPath(file: string): string {
  if (file === "~") return os.homedir();
  if (file.startsWith("~/")) return path.join(os.homedir(), file.slice(2));
  return path.resolve(file);
}

/**
 * The notebooks this MCP server has joined, each a `Session` like any other client's, and the
 * one tools act on ("open"). Opening another notebook keeps the earlier ones joined, so their
 * kernels live on and switching back is instant; closing the server leaves them all.
 */
export class OpenNotebooks {
  private readonly sessionsById = new Map<string, Session>();
  private currentId: string | undefined;
  private readonly savePathsById = new Map<string, string>();

  constructor(private readonly daemon: DaemonAddress) {}

  /** The open notebook, if any. */
  get current(): Session | undefined {
    return this.currentId === undefined ? undefined : this.sessionsById.get(this.currentId);
  }

  /**
   * The open notebook, holding everything the daemon has (so the agent sees what other clients
   * just did); BAD_REQUEST naming the tool to call first when none is open.
   */
  async require(): Promise<Session> {
    const session = this.current;
    if (!session) throw new RuntimedError("BAD_REQUEST", NO_NOTEBOOK_OPEN);
    await session.sync();
    return session;
  }

  /** The daemon's rooms (starting the daemon if none runs, as every client does). */
  listRooms(): Promise<RoomListing[]> {
    return new DaemonClient({ ...this.daemon, autoStart: true }).listRooms();
  }

  /** Joins the active notebook `notebookId`; BAD_REQUEST when the daemon has no such room. */
  async join(notebookId: string): Promise<Session> {
    const joined = this.sessionsById.get(notebookId);
    if (joined) return this.use(joined);
    const rooms = await this.listRooms();
    if (!rooms.some((room) => room.notebookId === notebookId)) {
      throw new RuntimedError(
        "BAD_REQUEST",
        `No active notebook ${JSON.stringify(notebookId)}. list_active_notebooks shows the notebooks open now; to open a file, pass its path instead.`,
      );
    }
    const session = new Session({ ...this.daemon, notebookId });
    await connectOrClose(session);
    return this.use(session);
  }

  /** Opens an existing .ipynb file (its notebook id is its absolute path). */
  async openFile(file: string): Promise<Session> {
    const absolute = resolveUserPath(file);
    if (!fs.existsSync(absolute)) {
      throw new RuntimedError("BAD_REQUEST", `No notebook file at ${absolute}. To make one there, call create_notebook with path ${JSON.stringify(absolute)}.`);
    }
    const joined = this.sessionsById.get(absolute);
    if (joined) return this.use(joined);
    return this.use(await Session.open(absolute, this.daemon));
  }

  /** Creates a notebook: in memory (a fresh UUID as its id), or linked to a new file at `file`. */
  async create(file?: string): Promise<Session> {
    if (file === undefined) {
      const session = new Session({ ...this.daemon, notebookId: randomUUID() });
      await connectOrClose(session);
      return this.use(session);
    }
    const absolute = resolveUserPath(file);
    if (fs.existsSync(absolute)) throw new RuntimedError("BAD_REQUEST", `${absolute} already exists; open it with open_notebook (path ${JSON.stringify(absolute)}), or pick another path.`);
    if (!fs.existsSync(path.dirname(absolute))) throw new RuntimedError("BAD_REQUEST", `Cannot create ${absolute}: the directory ${path.dirname(absolute)} does not exist.`);
    return this.use(await Session.open(absolute, this.daemon));
  }

  /** Where `save_notebook` without a path writes this notebook: the last path it was saved to here. */
  savePath(notebookId: string): string | undefined {
    return this.savePathsById.get(notebookId);
  }

  rememberSavePath(notebookId: string, file: string): void {
    this.savePathsById.set(notebookId, file);
  }

  /** Leaves every notebook (a kernel no one else uses is shut down, as `Session.close` does). */
  async closeAll(): Promise<void> {
    const sessions = [...this.sessionsById.values()];
    this.sessionsById.clear();
    this.currentId = undefined;
    await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
  }

  private use(session: Session): Session {
    this.sessionsById.set(session.notebookId, session);
    this.currentId = session.notebookId;
    return session;
  }
}

async function connectOrClose(session: Session): Promise<void> {
  try {
    await session.connect();
  } catch (error) {
    await session.close({ shutdownKernel: false }).catch(() => undefined);
    throw error;
  }
}
