/**
 * A TCP proxy in front of a server, for cutting connections the way a network does: `cut()`
 * resets every connection through it (and may refuse new ones for a while), `close()` stops
 * it for good.
 */
import * as net from "node:net";

/** A running proxy. */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Resets every open connection; new ones are refused for `refuseForMs` (default 0). */
  cut(options?: { refuseForMs?: number }): void;
  /** Resets every connection and stops listening; the port refuses connections from now on. */
  close(): Promise<void>;
  /** Everything clients sent through the proxy so far, as text (request lines and headers are readable). */
  sent(): string;
}

/** Starts a proxy to `127.0.0.1:targetPort`, on `port` (default a free one). */
export async function startTcpProxy(targetPort: number, port = 0): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let refuseUntil = 0;
  const sentChunks: Buffer[] = [];
  const server = net.createServer((client) => {
    if (Date.now() < refuseUntil) return void client.resetAndDestroy();
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.on("data", (chunk: Buffer) => sentChunks.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const listening = (server.address() as net.AddressInfo).port;
  const resetAll = () => {
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${listening}`,
    port: listening,
    cut(options = {}) {
      refuseUntil = Date.now() + (options.refuseForMs ?? 0);
      resetAll();
    },
    sent: () => Buffer.concat(sentChunks).toString("latin1"),
    close() {
      resetAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
