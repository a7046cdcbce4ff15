import { BehaviorSubject, Subject, distinctUntilChanged, type Observable, type Subscription } from "rxjs";
import { RuntimedError } from "../protocol/errors";
import { PROTOCOL_VERSION, type Broadcast, type RequestBody, type ResponseData } from "../protocol/messages";
import { connectToDaemon } from "../transport/connect";
import type { DaemonConnection } from "../transport/daemon-connection";
import type { DocumentReplica } from "./document-replica";
import type { ConnectionState } from "./types";

/** Where the room is and how to reach it. */
export interface RoomLinkOptions {
  notebookId: string;
  socketPath: string;
  /** Cache dir of a daemon started on demand. */
  cacheDir: string;
  /** Start a daemon when none answers (default true). */
  autoStart?: boolean;
  /** Reconnect after the connection drops (default true). */
  reconnect?: boolean;
}

/** What the link feeds: the document replica it syncs, and whoever takes the room's broadcasts. */
export interface RoomLinkHost {
  readonly replica: DocumentReplica;
  broadcast(message: Broadcast): void;
  /** A connection opened; large outputs are read from its blob dir. */
  opened(connection: DaemonConnection): void;
}

const INITIAL_SYNC_TIMEOUT_MS = 10_000;

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

  /** Connects and resolves after the first full sync. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new RuntimedError("CLOSED", "This session is closed"));
    if (this.connection?.isOpen) return Promise.resolve();
    this.connecting ??= this.open("connecting").finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Sends a request, connecting first when needed. */
  async request<A extends RequestBody["action"]>(body: Extract<RequestBody, { action: A }>): Promise<ResponseData[A]> {
    await this.connect();
    const connection = this.connection;
    if (!connection) throw new RuntimedError("NOT_CONNECTED", `Session ${this.options.notebookId} is not connected to the daemon`);
    return connection.request(body);
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
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.teardown();
    this.connection?.close();
    this.connection = undefined;
    this.stateSubject.next("closed");
    this.stateSubject.complete();
    this.reconnectedSubject.complete();
  }

  private async open(state: "connecting" | "reconnecting"): Promise<void> {
    this.stateSubject.next(state);
    const { notebookId, socketPath, cacheDir, autoStart } = this.options;
    const connection = await connectToDaemon(
      { socketPath, cacheDir, autoStart },
      { channel: "notebook_sync", notebook_id: notebookId, protocol: PROTOCOL_VERSION },
    ).catch((error: unknown) => {
      if (!this.closed) this.stateSubject.next("disconnected");
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
      connection.broadcasts$.subscribe((message) => this.host.broadcast(message)),
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
      } catch {
        if (this.closed) return;
        this.stateSubject.next("reconnecting");
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
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
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]);
}
