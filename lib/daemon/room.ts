import type { JupyterMessage } from "../kernel/wire";
import { findCellIndex, readAllNotebookMetadata, readCellAt, setCellOutputs, setExecutionCount } from "../notebook/cells";
import { cellNotFound } from "../notebook/cells";
import type { BlobStore } from "./blob-store";
import { NotebookFile } from "./notebook-file";
import { RuntimedError } from "../protocol/errors";
import type { Broadcast, KernelStatus, ResponseData, RoomRequestBody, RoomSummary } from "../protocol/messages";
import { Execution, type ExecutionHost } from "./execution";
import { ExecutionQueue } from "./execution-queue";
import type { KernelLaunchRequest, KernelProvider } from "./kernel-provider";
import type { Logger } from "./logger";
import { RoomDocument, type SyncPeer } from "./room-document";
import type { RoomStore } from "./room-store";
import { CommStore } from "./comm-store";
import { RoomDisplays } from "./room-displays";

/** A client in a room, as the room sees it. */
export interface RoomPeer extends SyncPeer {
  sendBroadcast(message: Broadcast): void;
}

export interface RoomOptions {
  store: RoomStore;
  provider: KernelProvider;
  logger: Logger;
  blobs: BlobStore;
  saveDelayMs?: number;
}

const DEFAULT_KERNEL: Pick<KernelLaunchRequest, "kernelType" | "envSource"> = { kernelType: "python", envSource: "auto" };

/**
 * A notebook room: one document shared by its peers, at most one kernel, and a FIFO queue of
 * executions that read their source from the document.
 */
export class Room implements ExecutionHost {
  readonly document: RoomDocument;
  readonly blobs: BlobStore;
  private readonly file: NotebookFile;
  private readonly peers = new Set<RoomPeer>();
  private readonly kernel: RoomKernelType;
  private readonly comms = new CommStore();
  private readonly executions: ExecutionQueue;
  private readonly displays: RoomDisplays;
  private pendingInput: JupyterMessage | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private notebookPath: string | undefined;
  private closed = false;

  constructor(
    readonly notebookId: string,
    private readonly options: RoomOptions,
    kernelFactory: (host: Room) => RoomKernelType,
  ) {
    this.blobs = options.blobs;
    this.document = new RoomDocument(options.store.load(notebookId));
    this.document.onChange(() => this.scheduleSave());
    this.file = new NotebookFile(this.document, options.blobs);
    this.kernel = kernelFactory(this);
    this.displays = new RoomDisplays(this.document, options.blobs, (message) => this.broadcast(message));
    this.executions = new ExecutionQueue({
      broadcast: (message) => this.broadcast(message),
      start: (execution) => this.startExecution(execution),
      interrupt: async () => {
        if (!this.kernel.kernel) return false;
        await this.kernel.interrupt();
        return true;
      },
      finished: (execution, failure) => {
        if (failure) {
          this.options.logger.warn("execution could not start", { notebook_id: this.notebookId, cell_id: execution.cellId, code: failure.code, error: failure.message });
        }
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
    // A late joiner gets the state it cannot find in the document: kernel, queue, widgets.
    peer.sendBroadcast(this.kernelStatusEvent());
    peer.sendBroadcast({ event: "queue_changed", ...this.executions.state() });
    for (const message of this.comms.replay()) peer.sendBroadcast(message);
  }

  leave(peer: RoomPeer): void {
    this.lastActive = Date.now();
    this.peers.delete(peer);
    this.document.removePeer(peer);
  }

  receiveSync(peer: RoomPeer, message: Uint8Array): void {
    this.document.receiveSync(peer, message);
  }

  broadcast(message: Broadcast): void {
    if (message.event === "execution_done") this.executions.remember(message);
    for (const peer of this.peers) peer.sendBroadcast(message);
  }

  /** Serves one request of a client in this room. */
  async handle(request: RoomRequestBody): Promise<ResponseData[keyof ResponseData]> {
    switch (request.action) {
      case "launch_kernel": {
        if (request.notebook_path) this.notebookPath = request.notebook_path;
        const launch = { ...this.launchRequest(request.kernel_type, request.env_source), location: request.location ?? undefined };
        const { alreadyRunning } = await this.kernel.ensure(launch);
        return { kernel_type: this.kernel.kernelType ?? request.kernel_type, env_source: this.kernel.envSource ?? "", already_running: alreadyRunning };
      }
      case "execute_cell":
        return this.enqueue(request.cell_id, request.execution_id, request.heads);
      case "cancel_execution":
        return { cancelled: await this.executions.cancel(request.execution_id) };
      case "clear_outputs": {
        await this.document.awaitHeads(request.heads);
        const index = findCellIndex(this.document.doc, request.cell_id);
        if (index < 0) throw cellNotFound(request.cell_id, this.notebookId);
        this.forgetDisplays(request.cell_id);
        this.document.change(`clear ${request.cell_id}`, (draft) => {
          setCellOutputs(draft, index, []);
          setExecutionCount(draft, index, null);
        });
        this.broadcast({ event: "clear_outputs", execution_id: null, cell_id: request.cell_id });
        return {};
      }
      case "interrupt":
        if (!(await this.executions.interruptRunning())) await this.kernel.interrupt(); // no kernel: KERNEL_NOT_RUNNING
        return {};
      case "restart_kernel": {
        this.executions.abandon("KERNEL_DIED", "The kernel was restarted before this cell finished");
        await this.kernel.restart(this.launchRequest(DEFAULT_KERNEL.kernelType, DEFAULT_KERNEL.envSource));
        this.executions.resume();
        return { kernel_type: this.kernel.kernelType ?? "", env_source: this.kernel.envSource ?? "" };
      }
      case "shutdown_kernel": {
        this.executions.abandon("KERNEL_DIED", "The kernel was shut down before this cell finished");
        return { was_running: await this.kernel.shutdown() };
      }
      case "get_kernel_info": {
        const kernel = this.kernel.kernel;
        const info = kernel?.kernelInfo as { language_info?: Record<string, unknown> } | undefined;
        return {
          status: this.kernel.kernelStatus,
          kernel_type: this.kernel.kernelType,
          env_source: this.kernel.envSource,
          pid: kernel?.pid ?? null,
          language_info: info?.language_info ?? null,
        };
      }
      case "get_queue_state":
        return this.executions.state();
      case "execution_status":
        return this.executions.status(request.execution_id);
      case "await_heads":
        await this.document.awaitHeads(request.heads);
        return { heads: this.document.heads };
      case "send_input": {
        const kernel = this.requireKernel();
        if (!this.pendingInput) throw new RuntimedError("BAD_REQUEST", "The kernel is not waiting for input");
        kernel.sendInputReply(request.value, this.pendingInput);
        this.pendingInput = undefined;
        return {};
      }
      case "send_comm": {
        const kernel = this.requireKernel();
        this.comms.fromClient(request.msg_type, request.content);
        kernel.send("shell", request.msg_type, request.content);
        return {};
      }
      case "complete": {
        const reply = await this.requireKernel().request("shell", "complete_request", { code: request.code, cursor_pos: request.cursor_pos });
        const c = reply.content as { matches?: string[]; cursor_start?: number; cursor_end?: number; metadata?: Record<string, unknown> };
        return { matches: c.matches ?? [], cursor_start: c.cursor_start ?? request.cursor_pos, cursor_end: c.cursor_end ?? request.cursor_pos, metadata: c.metadata ?? {} };
      }
      case "history": {
        const content = request.pattern
          ? { hist_access_type: "search", pattern: request.pattern, n: request.n ?? 100, unique: true, output: false, raw: true }
          : { hist_access_type: "tail", n: request.n ?? 100, output: false, raw: true };
        const reply = await this.requireKernel().request("shell", "history_request", content);
        return { history: (reply.content.history as [number, number, string][] | undefined) ?? [] };
      }
      case "room_info":
        return { notebook_id: this.notebookId, clients: this.peers.size, path: this.file.linkedPath };
      case "open_notebook":
        // Reload a file changed on disk only when no one else is working in the room.
        return this.file.open(request.path, { reloadIfChanged: this.peers.size <= 1 });
      case "save_notebook":
        return this.file.save(request.path);
    }
  }

  // -- ExecutionHost ---------------------------------------------------------------------------

  noteDisplay(displayId: string, cellId: string, index: number): void {
    this.displays.note(displayId, cellId, index);
  }

  forgetDisplays(cellId: string): void {
    this.displays.forget(cellId);
  }

  updateDisplayElsewhere(displayId: string, content: Record<string, unknown>, exceptCellId: string): void {
    this.displays.update(displayId, content, exceptCellId, this.executions.running);
  }

  // -- kernel events (RoomKernelHost) -----------------------------------------------------------

  statusChanged(status: KernelStatus): void {
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
    this.executions.abandon("KERNEL_DIED", message);
  }

  /** Shuts the kernel down, ends executions, saves the document. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.executions.close("The daemon is shutting down");
    // Saved before the kernel's shutdown is awaited: a room reopened meanwhile loads this.
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.save();
    await this.kernel.shutdown();
    this.document.dispose();
  }

  // -- internals -------------------------------------------------------------------------------

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

  private async enqueue(cellId: string, executionId: string, heads: string[]): Promise<ResponseData["execute_cell"]> {
    await this.document.awaitHeads(heads);
    const index = findCellIndex(this.document.doc, cellId);
    if (index < 0) throw cellNotFound(cellId, this.notebookId);
    const cellType = readCellAt(this.document.doc, index).cellType;
    if (cellType !== "code") throw new RuntimedError("BAD_REQUEST", `Cell ${cellId} is a ${cellType} cell; only code cells execute`);
    if (this.executions.has(executionId)) throw new RuntimedError("BAD_REQUEST", `Execution ${executionId} is already queued`);
    const position = this.executions.add(new Execution({ execution_id: executionId, cell_id: cellId }, this));
    return { execution_id: executionId, position };
  }

  /** Starts an execution the queue hands over: a kernel (started if need be), the cell's source now. */
  private async startExecution(execution: Execution): Promise<void> {
    const { kernel } = await this.kernel.ensure(this.launchRequest(DEFAULT_KERNEL.kernelType, DEFAULT_KERNEL.envSource));
    const index = findCellIndex(this.document.doc, execution.cellId);
    if (index < 0) execution.fail("CELL_NOT_FOUND", `Cell ${execution.cellId} was deleted before it ran`);
    else if (!execution.isFinished) execution.start(kernel, readCellAt(this.document.doc, index).source);
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

type RoomKernelType = import("./room-kernel").RoomKernel;
