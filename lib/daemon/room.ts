import type { JupyterMessage } from "../kernel/wire";
import { cellNotFound, findCellIndex, readAllNotebookMetadata, readCellCode, setCellOutputs, setExecutionCount } from "../notebook/cells";
import { DEFAULT_MAX_OUTPUT_BYTES } from "../outputs/stream-output";
import { encodeMessage } from "../protocol/codec";
import { RuntimedError } from "../protocol/errors";
import { FrameType, type Broadcast, type KernelStatus, type ResponseData, type RoomAction, type RoomRequestBody, type RoomSummary } from "../protocol/messages";
import type { BlobStore } from "./blob-store";
import { CommStore } from "./comm-store";
import { DeferredWrites } from "./deferred-writes";
import { Execution, type ExecutionHost } from "./execution";
import { ExecutionQueue } from "./execution-queue";
import type { KernelLaunchRequest, KernelProvider } from "./kernel-provider";
import type { Logger } from "./logger";
import type { StreamSource } from "./peer-outbox";
import { NotebookFile } from "./notebook-file";
import { RoomDisplays } from "./room-displays";
import { RoomDocument, type SyncPeer } from "./room-document";
import type { RoomKernel } from "./room-kernel";
import type { RoomStore } from "./room-store";
import { SpillingStreamStore } from "./stream-store";

/** A client in a room, as the room sees it. */
export interface RoomPeer extends SyncPeer {
  /**
   * Sends one frame, already encoded (a broadcast is encoded once for every peer). A frame with
   * a `key` may be replaced by a newer one with the same key while it waits for a slow peer.
   */
  sendFrame(type: FrameType, payload: Uint8Array, key?: string): void;
  /** Sends one frame ahead of whatever waits for a slow peer: the last word before a close. */
  sendAhead(type: FrameType, payload: Uint8Array): void;
  /** Sends a live piece of a stream output (see PeerOutbox). */
  sendStream(source: StreamSource, offset: number, payload: Uint8Array): void;
  /** Sends a stream output from its start. */
  restate(source: StreamSource): void;
}

export interface RoomOptions {
  store: RoomStore;
  provider: KernelProvider;
  logger: Logger;
  blobs: BlobStore;
  saveDelayMs?: number;
  /** Largest single stream output (default `RUNTIMED_MAX_OUTPUT_BYTES`, else 1 GiB). */
  maxOutputBytes?: number;
}

const DEFAULT_KERNEL: Pick<KernelLaunchRequest, "kernelType" | "envSource"> = { kernelType: "python", envSource: "auto" };
/** A finished execution's document write waits until no cell has run for this long... */
const QUIET_BEFORE_WRITE_MS = 20;
/** ...or this long at most. */
const MAX_WRITE_WAIT_MS = 250;

type Handlers = { [A in RoomAction]: (request: Extract<RoomRequestBody, { action: A }>) => Promise<ResponseData[A]> | ResponseData[A] };

/**
 * A notebook room: one document shared by its peers, at most one kernel, and a FIFO queue of
 * executions that read their source from the document.
 */
export class Room implements ExecutionHost {
  readonly document: RoomDocument;
  readonly blobs: BlobStore;
  readonly maxOutputBytes: number;
  private readonly file: NotebookFile;
  private readonly peers = new Set<RoomPeer>();
  private readonly kernel: RoomKernel;
  private readonly comms = new CommStore();
  private readonly executions: ExecutionQueue;
  private readonly displays: RoomDisplays;
  private pendingInput: JupyterMessage | undefined;
  private readonly writes: DeferredWrites;
  private saveTimer: NodeJS.Timeout | undefined;
  private notebookPath: string | undefined;
  private closed = false;

  constructor(
    readonly notebookId: string,
    private readonly options: RoomOptions,
    kernelFactory: (host: Room) => RoomKernel,
  ) {
    this.blobs = options.blobs;
    this.maxOutputBytes = options.maxOutputBytes ?? maxOutputBytesFromEnv();
    this.document = new RoomDocument(options.store.load(notebookId), {
      refused: (peer, problem) => this.refusedChange(peer as RoomPeer, problem),
    });
    this.document.onChange(() => this.scheduleSave());
    this.writes = new DeferredWrites({
      busy: () => this.executions.running !== undefined,
      quietMs: QUIET_BEFORE_WRITE_MS,
      maxWaitMs: MAX_WRITE_WAIT_MS,
      flushed: () => this.document.flushSync(),
      failed: (error) => this.warn("could not write outputs into the document", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    });
    this.file = new NotebookFile(this.document, options.blobs);
    this.kernel = kernelFactory(this);
    this.displays = new RoomDisplays(this.document, options.blobs, (message) => this.broadcast(message), (message, fields) => this.warn(message, fields));
    this.executions = new ExecutionQueue({
      broadcast: (message) => this.broadcast(message),
      start: (execution) => this.startExecution(execution),
      interrupt: async () => {
        if (!this.kernel.kernel) return false;
        await this.kernel.interrupt();
        return true;
      },
      finished: (execution, failure) => {
        if (failure) this.warn("execution could not start", { cell_id: execution.cellId, code: failure.code, error: failure.message });
        this.lastActive = Date.now();
        this.pendingInput = undefined;
      },
    });
  }

  get clientCount(): number {
    return this.peers.size;
  }

  /** When the room last had a client or ran a cell (ms since the epoch). */
  lastActive = Date.now();

  /** No client and nothing running or queued: the room may be unloaded. */
  get isIdle(): boolean {
    return this.peers.size === 0 && this.executions.isEmpty;
  }

  summary(): RoomSummary {
    return {
      notebook_id: this.notebookId,
      clients: this.peers.size,
      kernel_status: this.kernel.kernelStatus,
      env_source: this.kernel.kernel ? this.kernel.envSource : null,
    };
  }

  join(peer: RoomPeer): void {
    this.lastActive = Date.now();
    this.peers.add(peer);
    this.document.addPeer(peer);
    // A late joiner gets the state it cannot find in the document: kernel, queue, widgets, and
    // the outputs of a cell running now as they are (the document has them only coalesced).
    this.sendTo(peer, this.kernelStatusEvent());
    this.sendTo(peer, { event: "queue_changed", ...this.executions.state() });
    for (const message of this.comms.replay()) this.sendTo(peer, message);
    this.executions.running?.restateTo(peer);
  }

  leave(peer: RoomPeer): void {
    this.lastActive = Date.now();
    this.peers.delete(peer);
    this.document.removePeer(peer);
  }

  receiveSync(peer: RoomPeer, message: Uint8Array): void {
    this.document.receiveSync(peer, message);
  }

  /** Sends a broadcast to every client, encoded once; one client's failure reaches no other. */
  broadcast(message: Broadcast, only?: unknown): void {
    if (only !== undefined) return this.sendTo(only as RoomPeer, message);
    if (message.event === "execution_done") this.executions.remember(message);
    if (this.peers.size === 0) return;
    const payload = encodeMessage(message);
    const key = replaceableKey(message);
    for (const peer of this.peers) this.deliver(peer, () => peer.sendFrame(FrameType.Broadcast, payload, key));
  }

  broadcastStream(source: StreamSource, offset: number, appended: Uint8Array, tail: string): void {
    if (this.peers.size === 0) return;
    const payload = source.encode(offset, appended, tail);
    for (const peer of this.peers) this.deliver(peer, () => peer.sendStream(source, offset, payload));
  }

  restateStream(source: StreamSource, peer: unknown): void {
    this.deliver(peer as RoomPeer, () => (peer as RoomPeer).restate(source));
  }

  /** Serves one request of a client in this room. */
  handle(request: RoomRequestBody): Promise<ResponseData[RoomAction]> {
    const handler = this.handlers[request.action] as (request: RoomRequestBody) => Promise<ResponseData[RoomAction]> | ResponseData[RoomAction];
    return Promise.resolve().then(() => handler(request));
  }

  private readonly handlers: Handlers = {
    launch_kernel: async (request) => {
      if (request.notebook_path) this.notebookPath = request.notebook_path;
      const launch = { ...this.launchRequest(request.kernel_type, request.env_source), location: request.location ?? undefined };
      const { alreadyRunning } = await this.kernel.ensure(launch);
      return { kernel_type: this.kernel.kernelType ?? request.kernel_type, env_source: this.kernel.envSource ?? "", already_running: alreadyRunning };
    },
    execute_cell: (request) => this.enqueue(request.cell_id, request.execution_id, request.heads, request.allow_stdin ?? true),
    cancel_execution: async (request) => ({ cancelled: await this.executions.cancel(request.execution_id) }),
    execution_status: (request) => this.executions.status(request.execution_id),
    clear_outputs: async (request) => {
      await this.document.awaitHeads(request.heads);
      this.flushWrites();
      const index = findCellIndex(this.document.doc, request.cell_id);
      if (index < 0) throw cellNotFound(request.cell_id, this.notebookId);
      this.forgetDisplays(request.cell_id);
      this.document.change(`clear ${request.cell_id}`, (draft) => {
        setCellOutputs(draft, index, []);
        setExecutionCount(draft, index, null);
      });
      this.broadcast({ event: "clear_outputs", execution_id: null, cell_id: request.cell_id });
      return {};
    },
    interrupt: async () => {
      if (!(await this.executions.interruptRunning())) await this.kernel.interrupt(); // no kernel: KERNEL_NOT_RUNNING
      return {};
    },
    restart_kernel: async () => {
      this.executions.abandon("KERNEL_DIED", "The kernel was restarted before this cell finished");
      this.dropComms();
      await this.kernel.restart(this.launchRequest(DEFAULT_KERNEL.kernelType, DEFAULT_KERNEL.envSource));
      this.executions.resume();
      return { kernel_type: this.kernel.kernelType ?? "", env_source: this.kernel.envSource ?? "" };
    },
    shutdown_kernel: async () => {
      this.executions.abandon("KERNEL_DIED", "The kernel was shut down before this cell finished");
      this.dropComms();
      return { was_running: await this.kernel.shutdown() };
    },
    get_kernel_info: () => {
      const kernel = this.kernel.kernel;
      const info = kernel?.kernelInfo as { language_info?: Record<string, unknown> } | undefined;
      return {
        status: this.kernel.kernelStatus,
        kernel_type: this.kernel.kernelType,
        env_source: this.kernel.envSource,
        pid: kernel?.pid ?? null,
        language_info: info?.language_info ?? null,
      };
    },
    get_queue_state: () => this.executions.state(),
    await_heads: async (request) => {
      await this.document.awaitHeads(request.heads);
      this.flushWrites();
      return { heads: this.document.heads };
    },
    send_input: (request) => {
      const kernel = this.requireKernel();
      if (!this.pendingInput) throw new RuntimedError("BAD_REQUEST", "The kernel is not waiting for input");
      kernel.sendInputReply(request.value, this.pendingInput);
      this.pendingInput = undefined;
      return {};
    },
    send_comm: (request) => {
      const kernel = this.requireKernel();
      this.comms.fromClient(request.msg_type, request.content);
      kernel.send("shell", request.msg_type, request.content);
      return {};
    },
    complete: async (request) => {
      const reply = await this.requireKernel().request("shell", "complete_request", { code: request.code, cursor_pos: request.cursor_pos });
      const c = reply.content as { matches?: string[]; cursor_start?: number; cursor_end?: number; metadata?: Record<string, unknown> };
      return { matches: c.matches ?? [], cursor_start: c.cursor_start ?? request.cursor_pos, cursor_end: c.cursor_end ?? request.cursor_pos, metadata: c.metadata ?? {} };
    },
    history: async (request) => {
      const content = request.pattern
        ? { hist_access_type: "search", pattern: request.pattern, n: request.n ?? 100, unique: true, output: false, raw: true }
        : { hist_access_type: "tail", n: request.n ?? 100, output: false, raw: true };
      const reply = await this.requireKernel().request("shell", "history_request", content);
      return { history: (reply.content.history as [number, number, string][] | undefined) ?? [] };
    },
    room_info: () => ({ notebook_id: this.notebookId, clients: this.peers.size, path: this.file.linkedPath }),
    // Reload a file changed on disk only when no one else is working in the room.
    open_notebook: (request) => {
      this.flushWrites();
      return this.file.open(request.path, { reloadIfChanged: this.peers.size <= 1 });
    },
    save_notebook: (request) => {
      this.flushWrites();
      return this.file.save(request.path);
    },
  };

  // -- ExecutionHost ---------------------------------------------------------------------------

  createStreamStore(): SpillingStreamStore {
    return new SpillingStreamStore(this.blobs);
  }

  noteDisplay(displayId: string, cellId: string, index: number): void {
    this.displays.note(displayId, cellId, index);
  }

  forgetDisplays(cellId: string): void {
    this.displays.forget(cellId);
  }

  updateDisplayElsewhere(displayId: string, content: Record<string, unknown>, exceptCellId: string): void {
    this.flushWrites();
    this.displays.update(displayId, content, exceptCellId, this.executions.running);
  }

  writeAfterResult(cellId: string, write: () => void): void {
    this.writes.add(cellId, write);
  }

  /** Makes the document writes of finished executions now (before anything that reads or replaces outputs). */
  flushWrites(): void {
    this.writes.flush();
  }

  warn(message: string, fields: Record<string, unknown>): void {
    this.options.logger.warn(message, { notebook_id: this.notebookId, ...fields });
  }

  // -- kernel events (RoomKernelHost) -----------------------------------------------------------

  statusChanged(status: KernelStatus): void {
    // An execution's own start and end say busy and idle (clients infer them): two frames fewer
    // per execution, each a wake-up of every client.
    const running = this.executions.running;
    if ((status === "busy" || status === "idle") && running?.isStarted && !running.isFinished) return;
    this.broadcast(this.kernelStatusEvent(status));
  }

  iopub(message: JupyterMessage): void {
    const parentId = message.parent_header.msg_id;
    const running = this.executions.running;
    const msgType = message.header.msg_type;
    if (msgType === "comm_open" || msgType === "comm_msg" || msgType === "comm_close") {
      this.broadcast(this.comms.fromKernel(msgType, message.content));
      return;
    }
    if (running && parentId !== undefined && parentId === running.msgId) running.handleIopub(message);
  }

  stdin(message: JupyterMessage): void {
    if (message.header.msg_type !== "input_request") return;
    this.pendingInput = message;
    this.broadcast({
      event: "input_request",
      execution_id: this.executions.running?.executionId ?? null,
      prompt: typeof message.content.prompt === "string" ? message.content.prompt : "",
      password: message.content.password === true,
    });
  }

  died(message: string): void {
    this.broadcast({ event: "kernel_error", message });
    this.dropComms();
    this.executions.abandon("KERNEL_DIED", message);
  }

  /** Tells every client the daemon is stopping on purpose: they should not bring it back. */
  announceStop(message: string): void {
    // Not through the peers' outboxes: what waits there is dropped when the connection closes.
    const payload = encodeMessage({ event: "daemon_stopping", message } satisfies Broadcast);
    for (const peer of this.peers) this.deliver(peer, () => peer.sendAhead(FrameType.Broadcast, payload));
  }

  /** Shuts the kernel down, ends executions, saves the document. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.executions.close("The daemon is shutting down");
    this.flushWrites();
    // Saved before the kernel's shutdown is awaited: a room reopened meanwhile loads this.
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.save();
    await this.kernel.shutdown();
    this.document.dispose();
  }

  // -- internals -------------------------------------------------------------------------------

  /** Sends to one peer; its failure is logged and reaches no other peer. */
  private deliver(peer: RoomPeer, send: () => void): void {
    try {
      send();
    } catch (error) {
      this.warn("could not send to a client", { peer: peer.peerId, error: (error as Error).message });
    }
  }

  private sendTo(peer: RoomPeer, message: Broadcast): void {
    const payload = encodeMessage(message);
    this.deliver(peer, () => peer.sendFrame(FrameType.Broadcast, payload, replaceableKey(message)));
  }

  /** A peer's sync message would have broken the document: it was not taken, and the peer goes. */
  private refusedChange(peer: RoomPeer, problem: string): void {
    this.options.logger.warn("refused a document change that breaks the notebook schema", { notebook_id: this.notebookId, peer: peer.peerId, problem });
  }

  /** The kernel's comms (widgets) are gone with it: clients are told each one closed. */
  private dropComms(): void {
    for (const commId of this.comms.clear()) this.broadcast({ event: "comm", msg_type: "comm_close", content: { comm_id: commId, data: {} } });
  }

  private launchRequest(kernelType: string, envSource: string): KernelLaunchRequest {
    return {
      kernelType,
      envSource,
      notebookPath: this.notebookPath,
      metadata: readAllNotebookMetadata(this.document.doc),
      onProgress: (p) =>
        this.broadcast({ event: "env_progress", phase: p.phase, package: p.package ?? null, fraction: p.fraction ?? null, message: p.message ?? null }),
    };
  }

  private requireKernel() {
    const kernel = this.kernel.kernel;
    if (!kernel) throw new RuntimedError("KERNEL_NOT_RUNNING", "No kernel is running in this notebook; start one with startKernel()");
    return kernel;
  }

  private async enqueue(cellId: string, executionId: string, heads: string[], allowStdin: boolean): Promise<ResponseData["execute_cell"]> {
    // A retried request (its connection dropped before the answer) finds its execution again.
    const known = this.executions.position(executionId);
    if (known !== undefined) return { execution_id: executionId, position: known };
    await this.document.awaitHeads(heads);
    const index = findCellIndex(this.document.doc, cellId);
    if (index < 0) throw cellNotFound(cellId, this.notebookId);
    const cellType = readCellCode(this.document.doc, index).cellType;
    if (cellType !== "code") throw new RuntimedError("BAD_REQUEST", `Cell ${cellId} is a ${cellType} cell; only code cells execute`);
    const position = this.executions.add(new Execution({ execution_id: executionId, cell_id: cellId }, this, { allowStdin }));
    return { execution_id: executionId, position };
  }

  /** Starts an execution the queue hands over: a kernel (started if need be), the cell's source now. */
  private async startExecution(execution: Execution): Promise<void> {
    const { kernel } = await this.kernel.ensure(this.launchRequest(DEFAULT_KERNEL.kernelType, DEFAULT_KERNEL.envSource));
    // Cancelled (or timed out) while its kernel was starting: it never runs.
    if (execution.isFinished) return;
    const index = findCellIndex(this.document.doc, execution.cellId);
    if (index < 0) execution.fail("CELL_NOT_FOUND", `Cell ${execution.cellId} was deleted before it ran`);
    else execution.start(kernel, readCellCode(this.document.doc, index).source);
  }

  private kernelStatusEvent(status: KernelStatus = this.kernel.kernelStatus): Broadcast {
    return { event: "kernel_status", status, kernel_type: this.kernel.kernelType, env_source: this.kernel.envSource };
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, this.options.saveDelayMs ?? 500);
  }

  /** Writes the document to disk now. */
  save(): void {
    try {
      this.options.store.save(this.notebookId, this.document.doc);
    } catch (error) {
      this.options.logger.error("could not save room", { notebook_id: this.notebookId, error: (error as Error).message });
    }
  }
}

/** Broadcasts that a newer one of the same key makes obsolete (an output that changed again). */
function replaceableKey(message: Broadcast): string | undefined {
  if (message.event === "output") return `output:${message.execution_id}:${message.index}`;
  if (message.event === "display_update") return `display:${message.cell_id}:${message.index}`;
  return undefined;
}

/** `RUNTIMED_MAX_OUTPUT_BYTES` when it is a positive integer, else 1 GiB. */
function maxOutputBytesFromEnv(): number {
  const value = Number(process.env.RUNTIMED_MAX_OUTPUT_BYTES);
  return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_OUTPUT_BYTES;
}
