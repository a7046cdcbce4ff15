import { BehaviorSubject, Subject, distinctUntilChanged, filter, firstValueFrom, type Observable, type Subscription } from "rxjs";
import { RuntimedError } from "../protocol/errors";
import { PROTOCOL_VERSION, type Broadcast, type RequestBody, type ResponseData } from "../protocol/messages";
import type { RoomTransport } from "./platform";
import type { DaemonConnection } from "../transport/daemon-connection";
import type { DocumentReplica } from "./document-replica";
import type { ConnectionState } from "./types";

/** Where the room is and how to reach it. */
export interface RoomLinkOptions {
  notebookId: string;
  /** How the room is reached (Unix socket, WebSocket). */
  transport: RoomTransport;
  /** Reconnect after the connection drops (default true). */
  reconnect?: boolean;
}

/** What the link feeds: the document replica it syncs, and whoever takes the room's broadcasts. */
export interface RoomLinkHost {
  readonly replica: DocumentReplica;
  broadcast(message: Broadcast): void;
  /** A connection opened (the daemon restates what runs now on it). */
  opened(connection: DaemonConnection): void;
}

const INITIAL_SYNC_TIMEOUT_MS = 10_000;
/** How long a request waits for a dropped connection to come back before it fails. */
const RECONNECT_WAIT_MS = 30_000;

/**
 * Requests that may be sent again when the connection dropped before their answer: asking twice
 * does no harm (an execution is known by its id, so the daemon queues it once).
 */
const RETRYABLE = new Set<RequestBody["action"]>([
  "launch_kernel",
  "execute_cell",
  "cancel_execution",
  "execution_status",
  "clear_outputs",
  "interrupt",
  "shutdown_kernel",
  "get_kernel_info",
  "get_queue_state",
  "await_heads",
  "complete",
  "history",
  "room_info",
  "open_notebook",
  "save_notebook",
]);

/**
 * A session's link to its room on the daemon: connects (starting the daemon when allowed),
 * syncs the document replica over each connection, carries requests, and reconnects after a
 * drop, backing off up to 2 s between attempts.
 */
export class RoomLink {
  private connection: DaemonConnection | undefined;
  private connecting: Promise<void> | undefined;
  private subscriptions: Subscription[] = [];
  private closed = false;
  /** The daemon said it is stopping on purpose: do not bring it back. */
  private daemonStopping = false;
  private readonly stateSubject = new BehaviorSubject<ConnectionState>("disconnected");
  private readonly reconnectedSubject = new Subject<void>();

  /** connecting, connected, reconnecting, disconnected, closed (current value first). */
  readonly state$: Observable<ConnectionState> = this.stateSubject.pipe(distinctUntilChanged());
  /** Emits each time the connection is back after it dropped: events of the gap are lost. */
  readonly reconnected$: Observable<void> = this.reconnectedSubject.asObservable();

  constructor(
    private readonly options: RoomLinkOptions,
    private readonly host: RoomLinkHost,
  ) {}

  get state(): ConnectionState {
    return this.stateSubject.value;
  }

  get isOpen(): boolean {
    return this.connection?.isOpen ?? false;
  }

  /** Connects (after a stop on purpose too: that starts a daemon again) and resolves after the first full sync. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new RuntimedError("CLOSED", "This session is closed"));
    if (this.connection?.isOpen) return Promise.resolve();
    this.daemonStopping = false;
    this.connecting ??= this.open("connecting").finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /**
   * Sends a request, connecting first when needed. While the connection is being re-established
   * (the daemon restarted, say) the request waits for it, up to 30 s; a request whose answer was
   * lost with a dropped connection is sent again when that is harmless. Once `signal` is aborted
   * the request is not sent (again): it rejects with CANCELLED.
   */
  async request<A extends RequestBody["action"]>(body: Extract<RequestBody, { action: A }>, signal?: AbortSignal): Promise<ResponseData[A]> {
    const deadline = Date.now() + RECONNECT_WAIT_MS;
    for (;;) {
      const connection = await this.openConnection(deadline, signal);
      if (signal?.aborted) throw new RuntimedError("CANCELLED", `The ${body.action} request was cancelled before it was sent`);
      try {
        return await connection.request(body);
      } catch (error) {
        const lost = !connection.isOpen && error instanceof RuntimedError && error.code === "DAEMON_UNAVAILABLE";
        if (!lost || !RETRYABLE.has(body.action) || this.options.reconnect === false || Date.now() >= deadline) throw error;
      }
    }
  }

  /** The open connection: now, after the reconnect under way, or after connecting. */
  private async openConnection(deadline: number, signal?: AbortSignal): Promise<DaemonConnection> {
    for (;;) {
      if (signal?.aborted) throw new RuntimedError("CANCELLED", "The request was cancelled before it was sent");
      if (this.closed) throw new RuntimedError("CLOSED", `Session ${this.options.notebookId} is closed`);
      if (this.connection?.isOpen && this.state === "connected") return this.connection;
      const state = this.state;
      if (state === "stopped") {
        throw new RuntimedError(
          "DAEMON_UNAVAILABLE",
          `The runtimed daemon was stopped on purpose; call connect() to start it again (notebook ${this.options.notebookId})`,
        );
      }
      if (state === "reconnecting" || state === "connecting") await this.nextState(deadline, signal);
      else await this.connect();
    }
  }

  /** Resolves when the connection state changes, or `signal` aborts (or rejects at `deadline`). */
  private nextState(deadline: number, signal?: AbortSignal): Promise<void> {
    const current = this.state;
    const changed = firstValueFrom(this.stateSubject.pipe(filter((state) => state !== current))).then(() => undefined);
    const aborted = signal ? new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })) : undefined;
    return withTimeout(
      aborted ? Promise.race([changed, aborted]) : changed,
      Math.max(0, deadline - Date.now()),
      () => new RuntimedError("DAEMON_UNAVAILABLE", `The connection to the daemon did not come back within ${RECONNECT_WAIT_MS / 1000} s (notebook ${this.options.notebookId})`),
    );
  }

  /** Waits (bounded) until the replica holds `heads`. */
  whenReplicaHas(heads: string[], what: string): Promise<void> {
    return withTimeout(
      this.host.replica.whenHasHeads(heads),
      INITIAL_SYNC_TIMEOUT_MS,
      () => new RuntimedError("TIMEOUT", `${what} did not finish within ${INITIAL_SYNC_TIMEOUT_MS} ms`),
    );
  }

  /** Ends the link for good: closes the connection, stops reconnecting, completes `state$`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.teardown();
    const closing = this.connection?.close();
    this.connection = undefined;
    this.stateSubject.next("closed");
    this.stateSubject.complete();
    this.reconnectedSubject.complete();
    await closing;
  }

  private async open(state: "connecting" | "reconnecting"): Promise<void> {
    this.stateSubject.next(state);
    const { notebookId, transport } = this.options;
    const handshake = { channel: "notebook_sync", notebook_id: notebookId, protocol: PROTOCOL_VERSION } as const;
    const connection = await transport.open(handshake, { reconnecting: state === "reconnecting" }).catch((error: unknown) => {
      // A failed reconnect attempt stays "reconnecting": the loop tries again.
      if (!this.closed && state === "connecting") this.stateSubject.next("disconnected");
      throw error;
    });
    if (this.closed) {
      connection.close();
      throw new RuntimedError("CLOSED", "This session was closed while connecting");
    }
    this.teardown();
    this.connection = connection;
    const replica = this.host.replica;
    this.subscriptions = [
      connection.sync$.subscribe((message) => replica.receive(message)),
      connection.broadcasts$.subscribe((message) => {
        if (message.event === "daemon_stopping") this.daemonStopping = true;
        this.host.broadcast(message);
      }),
      connection.closed$.subscribe((error) => this.disconnected(connection, error)),
    ];
    this.host.opened(connection);
    connection.start();
    replica.attach((message) => connection.sendSync(message));
    await this.whenReplicaHas(connection.initialHeads, `The first sync of notebook ${notebookId}`);
    this.stateSubject.next("connected");
    if (state === "reconnecting") this.reconnectedSubject.next();
  }

  private disconnected(connection: DaemonConnection, error: RuntimedError | null): void {
    if (this.connection !== connection) return;
    this.host.replica.detach();
    this.connection = undefined;
    if (this.closed || error === null) return;
    if (this.daemonStopping) {
      // Stopped on purpose (`runtimed daemon stop`): restarting it now would undo that.
      this.stateSubject.next("stopped");
      return;
    }
    if (this.options.reconnect === false) {
      this.stateSubject.next("disconnected");
      return;
    }
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    let delay = 100;
    while (!this.closed) {
      try {
        this.connecting ??= this.open("reconnecting").finally(() => (this.connecting = undefined));
        await this.connecting;
        return;
      } catch (error) {
        if (this.closed || this.state === "stopped") return;
        if (error instanceof RuntimedError && error.code === "DAEMON_STOPPED") {
          // The stop notice was missed (this client was not reading), but the daemon left word.
          this.stateSubject.next("stopped");
          return;
        }
        this.stateSubject.next("reconnecting");
        await new Promise((resolve) => unref(setTimeout(resolve, delay)));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  private teardown(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]);
}

/** Lets Node exit while a reconnect waits (browsers have no unref). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}
