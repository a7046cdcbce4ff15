import { v4 as randomUUID } from "uuid";
import * as Automerge from "@automerge/automerge";
import {
  BehaviorSubject,
  defer,
  Observable,
  Subject,
  distinctUntilChanged,
  filter,
  lastValueFrom,
  map,
  merge,
  shareReplay,
  skipWhile,
  startWith,
  takeUntil,
  takeWhile,
} from "rxjs";
import {
  checkCellType,
  insertCell,
  moveCell,
  newCellId,
  readNotebookMetadata,
  removeCell,
  requireCellIndex,
  setCellSource,
  setCellType,
  setNotebookMetadata,
} from "../notebook";
import { plainString } from "../notebook/schema";
import { RuntimedError } from "../protocol/errors";
import type { RequestBody, ResponseData } from "../protocol/messages";
import { DocumentReplica } from "./document-replica";
import { RoomLink } from "./room-link";
import { executionObservable, type ExecutionContext } from "./execute";
import { executeAll as executeInOrder, type ExecuteAllOptions } from "./pipeline";
import { toResult } from "./operators/to-result";
import { liveOutputs } from "./live-outputs";
import { OutputDecoder } from "./output-decoder";
import { CellCache, sameCell, sameCells } from "./cell-cache";
import { EventIntake } from "./event-intake";
import { ResultOverlay } from "./result-overlay";
import { RoomResults } from "./room-results";
import { sessionPlatform, type RoomTransport } from "./platform";
import { globalWebSocketFactory, type WebSocketFactory } from "../transport/websocket-pipe";
import { needsUrl, webSocketTransport } from "../transport/websocket-transport";
import type {
  EnvProgressEvent,
  Cell,
  CellType,
  ConnectionState,
  DocumentPatch,
  ExecutionEvent,
  ExecutionResult,
  KernelStatus,
  Output,
  QueueState,
  RoomEvent,
} from "./types";

/** How to reach the daemon and which notebook to join. */
export interface SessionOptions {
  /** The notebook (room) to join; a random id when absent. Same id, same document and kernel. */
  notebookId?: string;
  /**
   * A daemon on the network (`http://host:port/`, as `runtimed daemon status` shows it): the
   * session then speaks over a WebSocket and reads output blobs over HTTP. Without it (Node), the
   * daemon on this machine is reached over its Unix socket.
   */
  url?: string;
  /** The daemon's token, for `url` (a page the daemon served may omit it: its cookie is used). */
  token?: string;
  /** How to make WebSockets, for `url` (default: the runtime's; `ws` in Node). */
  webSocket?: WebSocketFactory;
  /** The daemon's socket (default `RUNTIMED_SOCKET_PATH`, else `<cache>/runtimed.sock`). */
  socketPath?: string;
  /** Cache dir of a daemon started on demand (default `RUNTIMED_CACHE_DIR`, else the XDG cache). */
  cacheDir?: string;
  /** Start a daemon when none answers (default true). */
  autoStart?: boolean;
  /** Reconnect (and restart the daemon when `autoStart`) after the connection drops (default true). */
  reconnect?: boolean;
}

export interface StartKernelOptions {
  /** "python", "deno" or any installed kernelspec name (default "python"). */
  kernelType?: string;
  /** "auto" (default), "uv:prewarmed", "conda:prewarmed", ... */
  envSource?: string;
  /** The notebook's path on disk, for project-file detection. */
  notebookPath?: string;
  /**
   * Where the kernel runs when the daemon has a Jupyter gateway: `"gateway"` (the default
   * there) or `"local"` for a kernel on the daemon's own machine. Without a gateway, local.
   */
  location?: "local" | "gateway";
}

export interface ExecuteOptions {
  /** Give up after this long: the execution is cancelled and the call fails with TIMEOUT (default 60; Infinity or 0: no limit). */
  timeoutSecs?: number;
  /**
   * Whether the cell may ask for input (`input()`, `getpass`): true by default, answered with
   * `sendInput`. False for runs nobody watches: the kernel then fails such a call at once.
   */
  allowStdin?: boolean;
}

/**
 * A client of one notebook room: local-first document operations, kernel control, and every
 * piece of room state as an observable. Executions are cold observables; promise helpers sit on top.
 */
export class Session implements AsyncDisposable {
  readonly notebookId: string;
  private readonly replica = new DocumentReplica();
  private readonly outputs: OutputDecoder;
  private readonly cellCache: CellCache;
  private readonly intake: EventIntake;
  private readonly overlay = new ResultOverlay();
  private readonly results = new RoomResults((result) => this.overlay.note(result, this.replica.doc));
  private readonly link: RoomLink;
  private closed = false;

  private readonly kernelStatusSubject = new BehaviorSubject<KernelStatus>("not_started");
  private readonly queueStateSubject = new BehaviorSubject<QueueState>({ executing: null, queued: [] });
  private readonly eventsSubject = new Subject<RoomEvent>();
  private readonly closing = new Subject<void>();
  private currentEnvSource: string | null = null;
  private currentKernelType: string | null = null;

  /** Every document change, local or remote, with its origin. */
  readonly patches$: Observable<DocumentPatch>;
  /**
   * The cell list; re-emitted only when it changes. Late subscribers get the current list. A patch
   * costs the cells it changed (unchanged cells are the same objects as before; cells are frozen).
   */
  readonly cells$: Observable<Cell[]>;
  /** Kernel status of the room. */
  readonly kernelStatus$: Observable<KernelStatus> = this.kernelStatusSubject.pipe(distinctUntilChanged());
  /** What is running and waiting in the room. */
  readonly queueState$: Observable<QueueState> = this.queueStateSubject.asObservable();
  /** Connection to the daemon. */
  readonly connection$: Observable<ConnectionState>;
  /** Every broadcast of the room (this client's executions and everyone else's). */
  readonly events$: Observable<RoomEvent> = this.eventsSubject.asObservable();
  /** Progress of environment builds for this room's kernel (phase, package, fraction). */
  readonly envProgress$: Observable<EnvProgressEvent> = this.eventsSubject.pipe(
    filter((event): event is EnvProgressEvent => event.type === "env_progress"),
  );

  constructor(options: SessionOptions = {}) {
    this.notebookId = options.notebookId ?? `session-${randomUUID()}`;
    const transport = roomTransport(options);
    this.outputs = new OutputDecoder(transport.blobs);
    this.cellCache = new CellCache(this.outputs);
    this.intake = new EventIntake(this.outputs, (event) => this.receiveBroadcast(event));
    this.link = new RoomLink(
      { notebookId: this.notebookId, transport, reconnect: options.reconnect },
      {
        replica: this.replica,
        broadcast: (message) => this.intake.receive(message),
        opened: () => {
          this.intake.reset();
          this.results.reset();
          this.overlay.clear();
        },
      },
    );
    this.connection$ = this.link.state$;
    this.patches$ = this.replica.patches$;
    this.replica.onRemoteChange(() => {
      if (this.overlay.size > 0) this.overlay.prune(this.replica.doc);
    });
    // Outputs read before a fetched blob arrived are read again when it has.
    this.cells$ = merge(this.replica.patches$, this.outputs.resolved$, this.overlay.noted$).pipe(
      startWith(null),
      map(() => this.getCells()),
      distinctUntilChanged<Cell[]>(sameCells),
      takeUntil(this.closing),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
  }

  // -- properties ------------------------------------------------------------------------------

  get isConnected(): boolean {
    return this.link.state === "connected";
  }

  /** Whether the room has a running kernel. */
  get kernelStarted(): boolean {
    const status = this.kernelStatusSubject.value;
    return status === "idle" || status === "busy" || status === "starting" || status === "restarting";
  }

  /** The environment the room's kernel runs in (e.g. "venv:prewarmed", "deno"), if any. */
  get envSource(): string | null {
    return this.kernelStarted ? this.currentEnvSource : null;
  }

  /** The room's kernel type ("python", "deno", a kernelspec name), if a kernel runs. */
  get kernelType(): string | null {
    return this.kernelStarted ? this.currentKernelType : null;
  }

  // -- connection ------------------------------------------------------------------------------

  /** Connects (starting the daemon when needed) and resolves after the first full sync. */
  connect(): Promise<void> {
    return this.link.connect();
  }

  /** Resolves once the daemon holds every change made here so far. */
  async flush(): Promise<void> {
    await this.request({ action: "await_heads", heads: this.replica.heads });
  }

  /** Like `flush`, and also waits until this session holds every change the daemon has. */
  async sync(): Promise<void> {
    const { heads } = await this.request({ action: "await_heads", heads: this.replica.heads });
    await this.link.whenReplicaHas(heads, `Syncing notebook ${this.notebookId} from the daemon`);
  }

  /**
   * Leaves the room. Like runtimed's context manager it shuts the kernel down, unless another
   * client is still in the room (their work would die with it); pass `shutdownKernel` to decide.
   */
  async close(options: { shutdownKernel?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (this.link.isOpen) {
        await this.flush();
        let shutdown = options.shutdownKernel;
        if (shutdown === undefined) shutdown = this.kernelStarted && (await this.request({ action: "room_info" })).clients <= 1;
        if (shutdown) await this.request({ action: "shutdown_kernel" });
      }
    } finally {
      this.closed = true;
      await this.link.close();
      this.closing.next();
      this.closing.complete();
      for (const subject of [this.kernelStatusSubject, this.queueStateSubject, this.eventsSubject]) {
        (subject as Subject<unknown>).complete();
      }
      this.replica.complete();
      this.outputs.close();
      this.overlay.complete();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Opens an .ipynb file as a notebook room (its id is the file's absolute path): the daemon
   * loads the file when the room is new, and links the room to it for `save()`.
   */
  static async open(file: string, options: Omit<SessionOptions, "notebookId"> = {}): Promise<Session> {
    const absolute = resolvePath(file);
    const session = new Session({ ...options, notebookId: absolute });
    try {
      await session.request({ action: "open_notebook", path: absolute });
      await session.sync();
      return session;
    } catch (error) {
      await session.close({ shutdownKernel: false }).catch(() => undefined);
      throw error;
    }
  }

  /** Writes the notebook as nbformat 4 to `file`, or to the file the room is linked to. */
  async save(file?: string): Promise<string> {
    await this.flush();
    const reply = await this.request({ action: "save_notebook", path: file === undefined ? undefined : resolvePath(file) });
    return reply.path;
  }

  // -- kernel ----------------------------------------------------------------------------------

  /** Starts the room's kernel; returns at once when one already runs. */
  async startKernel(options: StartKernelOptions = {}): Promise<void> {
    // The daemon picks the environment from the notebook's metadata: it must have ours first.
    await this.flush();
    const response = await this.request({
      action: "launch_kernel",
      kernel_type: options.kernelType ?? "python",
      env_source: options.envSource ?? "auto",
      notebook_path: options.notebookPath,
      location: options.location,
    });
    this.currentKernelType = response.kernel_type;
    this.currentEnvSource = response.env_source;
    if (!this.kernelStarted) this.kernelStatusSubject.next("idle");
  }

  async interrupt(): Promise<void> {
    await this.request({ action: "interrupt" });
  }

  /** Restarts the kernel: same document, fresh interpreter, execution count from 1. */
  async restartKernel(): Promise<void> {
    const response = await this.request({ action: "restart_kernel" });
    this.currentKernelType = response.kernel_type;
    this.currentEnvSource = response.env_source;
  }

  async shutdownKernel(): Promise<void> {
    await this.request({ action: "shutdown_kernel" });
  }

  /** The kernel's state, type, environment and language info. */
  async kernelInfo(): Promise<ResponseData["get_kernel_info"]> {
    return this.request({ action: "get_kernel_info" });
  }

  /** Completions at `cursorPos` in `code`. */
  async complete(code: string, cursorPos: number = code.length): Promise<{ matches: string[]; cursorStart: number; cursorEnd: number }> {
    const reply = await this.request({ action: "complete", code, cursor_pos: cursorPos });
    return { matches: reply.matches, cursorStart: reply.cursor_start, cursorEnd: reply.cursor_end };
  }

  /** The kernel's input history (most recent `n`, or matching a glob `pattern`). */
  async history(options: { n?: number; pattern?: string } = {}): Promise<{ session: number; line: number; source: string }[]> {
    const reply = await this.request({ action: "history", n: options.n, pattern: options.pattern });
    return reply.history.map(([session, line, source]) => ({ session, line, source }));
  }

  /** Answers the kernel's pending `input()` prompt. */
  async sendInput(value: string): Promise<void> {
    await this.request({ action: "send_input", value });
  }

  /** Sends a comm message (ipywidgets protocol) to the kernel. */
  async sendComm(msgType: "comm_open" | "comm_msg" | "comm_close", content: Record<string, unknown>): Promise<void> {
    await this.request({ action: "send_comm", msg_type: msgType, content });
  }

  // -- document --------------------------------------------------------------------------------

  /** Adds a cell (synchronously, local-first) and returns its id, `cell-<uuid>`. */
  createCell(source = "", options: { cellType?: CellType; index?: number } = {}): string {
    const cellType = checkCellType(options.cellType ?? "code");
    const id = newCellId();
    this.replica.change(`create ${id}`, (draft) => void insertCell(draft, { id, cellType, source }, options.index ?? undefined));
    return id;
  }

  setSource(cellId: string, source: string): void {
    const index = requireCellIndex(this.replica.doc, cellId, this.notebookId);
    this.replica.change(`edit ${cellId}`, (draft) => setCellSource(draft, index, source));
  }

  /** One cell (frozen: it may be shared with other reads); CELL_NOT_FOUND when there is none with this id. */
  getCell(cellId: string): Cell {
    const doc = this.replica.doc;
    const cell = this.cellCache.cell(doc, cellId);
    if (!cell) throw new RuntimedError("CELL_NOT_FOUND", `No cell ${cellId} in notebook ${this.notebookId}`);
    return this.withResult(cell);
  }

  /** Every cell, in order: a new array each call, of frozen cells that later reads may share. */
  getCells(): Cell[] {
    const cells = this.cellCache.cells(this.replica.doc);
    return this.overlay.size > 0 ? cells.map((cell) => this.withResult(cell)) : cells;
  }

  deleteCell(cellId: string): void {
    const index = requireCellIndex(this.replica.doc, cellId, this.notebookId);
    this.replica.change(`delete ${cellId}`, (draft) => removeCell(draft, index));
  }

  /** Moves a cell so that it ends up at `index` (clamped) in the cell list. */
  moveCell(cellId: string, index: number): void {
    const from = requireCellIndex(this.replica.doc, cellId, this.notebookId);
    this.replica.change(`move ${cellId}`, (draft) => void moveCell(draft, from, index));
  }

  /** Changes a cell's type ("code", "markdown" or "raw"); source and outputs stay. */
  setCellType(cellId: string, cellType: CellType): void {
    const checked = checkCellType(cellType);
    const index = requireCellIndex(this.replica.doc, cellId, this.notebookId);
    this.replica.change(`type ${cellId}`, (draft) => setCellType(draft, index, checked));
  }

  /** Clears a cell's outputs and execution count; the daemon writes them, so this asks it to. */
  async clearOutputs(cellId: string): Promise<void> {
    requireCellIndex(this.replica.doc, cellId, this.notebookId);
    await this.request({ action: "clear_outputs", cell_id: cellId, heads: this.replica.heads });
  }

  /** Sets a notebook metadata value (a string; JSON by convention). */
  setMetadata(key: string, value: string): void {
    if (typeof value !== "string") throw new RuntimedError("BAD_REQUEST", `Metadata values are strings (JSON by convention); got ${typeof value} for ${key}`);
    this.replica.change(`metadata ${key}`, (draft) => setNotebookMetadata(draft, key, value));
  }

  getMetadata(key: string): string | undefined {
    return readNotebookMetadata(this.replica.doc, key);
  }

  /** The whole notebook document as Automerge bytes (a snapshot, e.g. for backups or size checks). */
  documentBytes(): Uint8Array {
    return Automerge.save(this.replica.doc);
  }

  /**
   * One cell, live: emits once the cell exists (it may still be on its way from another
   * client) and on every change; completes when the cell is deleted.
   */
  cell$(cellId: string): Observable<Cell> {
    return this.cells$.pipe(
      map((cells) => cells.find((cell) => cell.id === cellId)),
      skipWhile((cell) => cell === undefined),
      takeWhile((cell): cell is Cell => cell !== undefined),
      distinctUntilChanged(sameCell),
    );
  }

  /**
   * The outputs of one cell, live: from the document, and from the room's broadcasts while
   * the cell runs (so they arrive before the daemon's coalesced document writes).
   */
  outputs$(cellId: string): Observable<Output[]> {
    return liveOutputs(cellId, {
      documentChanged$: merge(this.replica.patches$, this.outputs.resolved$, this.overlay.noted$),
      events$: this.eventsSubject.asObservable(),
      documentKey: () => [...(this.storedOutputs(cellId) ?? []), this.outputs.generation],
      fromDocument: () => this.documentOutputs(cellId),
    });
  }

  // -- execution -------------------------------------------------------------------------------

  /**
   * Executes a cell: a cold observable of its events (queued, started, output..., result).
   * Nothing is sent before subscribe; unsubscribing before the result cancels the execution.
   */
  execute(cellId: string, options: ExecuteOptions = {}): Observable<ExecutionEvent> {
    return executionObservable(this.executionContext(), cellId, { ...options, cancelOnUnsubscribe: true });
  }

  /** Like `execute`, but unsubscribing only stops watching; the execution goes on. */
  queue(cellId: string, options: ExecuteOptions = {}): Observable<ExecutionEvent> {
    return executionObservable(this.executionContext(), cellId, { ...options, cancelOnUnsubscribe: false });
  }

  /**
   * Executes cells one after another as one cold observable of their events; by default it stops
   * after the first cell that fails (the rest are not run). Unsubscribing cancels the running cell.
   */
  executeAll(cellIds: string[], options: ExecuteOptions & ExecuteAllOptions = {}): Observable<ExecutionEvent> {
    const { stopOnError, ...executeOptions } = options;
    return executeInOrder((cellId) => this.execute(cellId, executeOptions), cellIds, { stopOnError });
  }

  /** Executes every code cell in document order, as `executeAll` does; the cells are read on subscribe. */
  runAll(options: ExecuteOptions & ExecuteAllOptions = {}): Observable<ExecutionEvent> {
    return defer(() => this.executeAll(this.getCells().filter((cell) => cell.cellType === "code").map((cell) => cell.id), options));
  }

  /** Executes a cell and resolves with its result (starting the kernel if needed). */
  executeCell(cellId: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    return lastValueFrom(this.execute(cellId, options).pipe(toResult()));
  }

  /** Creates a cell with `code` and executes it. */
  run(code: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    return this.executeCell(this.createCell(code), options);
  }

  /** Queues a cell and resolves with its execution id once the daemon has queued it. */
  async queueCell(cellId: string): Promise<string> {
    const executionId = randomUUID();
    await this.connect();
    await this.request({ action: "execute_cell", cell_id: cellId, execution_id: executionId, heads: this.replica.heads });
    return executionId;
  }

  // -- internals -------------------------------------------------------------------------------

  /** Sends a request, connecting first when needed (not sent once `signal` is aborted). */
  request<A extends RequestBody["action"]>(body: Extract<RequestBody, { action: A }>, signal?: AbortSignal): Promise<ResponseData[A]> {
    return this.link.request(body, signal);
  }

  /** A cell as reads show it: with the outputs of a result the document does not hold yet, if any. */
  private withResult(cell: Cell): Cell {
    const finished = this.overlay.size > 0 ? this.overlay.lookup(cell.id, this.replica.doc) : undefined;
    if (!finished) return cell;
    return Object.freeze({ ...cell, executionCount: finished.executionCount, outputs: Object.freeze([...finished.outputs]) as Output[] });
  }

  /** One cell's output manifests as the document holds them (cheap: nothing else is copied), or undefined. */
  private storedOutputs(cellId: string): string[] | undefined {
    const doc = this.replica.doc;
    const index = this.cellCache.indexOf(doc, cellId);
    return index < 0 ? undefined : doc.cells[index]!.outputs.map(plainString);
  }

  /** One cell's outputs as the document has them (or as a result just said, until it has them). */
  private documentOutputs(cellId: string): Output[] {
    const finished = this.overlay.size > 0 ? this.overlay.lookup(cellId, this.replica.doc) : undefined;
    if (finished) return finished.outputs;
    return this.storedOutputs(cellId)?.map((encoded) => this.outputs.decode(encoded)) ?? [];
  }

  private executionContext(): ExecutionContext {
    return {
      events$: this.eventsSubject.asObservable(),
      reconnected$: this.link.reconnected$,
      stopped$: this.link.state$.pipe(
        filter((state) => state === "stopped"),
        map(() => undefined),
      ),
      documentOutputs: (cellId) => this.storedOutputs(cellId)?.map((encoded) => this.outputs.decode(encoded)) ?? [],
      heads: () => this.replica.heads,
      request: <A extends RequestBody["action"]>(body: Extract<RequestBody, { action: A }>, signal?: AbortSignal) => this.request(body, signal),
    };
  }

  private receiveBroadcast(event: RoomEvent): void {
    if (event.type === "kernel_status") {
      if (event.envSource !== null) this.currentEnvSource = event.envSource;
      if (event.kernelType !== null) this.currentKernelType = event.kernelType;
      this.kernelStatusSubject.next(event.status);
    } else if (event.type === "queue_changed") {
      this.queueStateSubject.next({ executing: event.executing, queued: event.queued });
    } else if (event.type === "execution_started" && this.kernelStatusSubject.value === "idle") {
      // The daemon does not broadcast the busy and idle of an execution: its start and end say them.
      this.kernelStatusSubject.next("busy");
    } else if (event.type === "execution_done") {
      if (this.kernelStatusSubject.value === "busy") this.kernelStatusSubject.next("idle");
      // The daemon's queue_changed comes at the end of its turn; the end of what runs is known now.
      const queue = this.queueStateSubject.value;
      if (queue.executing?.executionId === event.executionId) this.queueStateSubject.next({ executing: null, queued: queue.queued });
    }
    this.results.apply(event);
    this.eventsSubject.next(event);
  }
}

/** The transport `options` ask for: the network daemon at `url`, else the platform's local one. */
function roomTransport(options: SessionOptions): RoomTransport {
  const platform = sessionPlatform();
  if (options.url !== undefined) {
    const create = options.webSocket ?? platform.webSocket ?? globalWebSocketFactory();
    if (!create) throw new RuntimedError("BAD_REQUEST", "This runtime has no WebSocket: pass `webSocket` (e.g. from the `ws` package)");
    return webSocketTransport({ url: options.url, token: options.token, create });
  }
  if (!platform.local) throw needsUrl();
  return platform.local({ socketPath: options.socketPath, cacheDir: options.cacheDir, autoStart: options.autoStart });
}

/** An absolute notebook path where the runtime has files (Node), else the path as given. */
function resolvePath(file: string): string {
  return sessionPlatform().resolvePath?.(file) ?? file;
}
