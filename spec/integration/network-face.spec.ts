import * as fs from "node:fs";
import * as Automerge from "@automerge/automerge";
import type * as nbformat from "@jupyterlab/nbformat";
import { PROTOCOL_VERSION } from "../../lib/protocol/messages";
import { pageUrl } from "../../lib/protocol/page-url";
import { daemonFiles, type DaemonInfo } from "../../lib/transport/paths";
import { decodeManifest, fromManifest } from "../../lib/outputs/manifest";
import { BlobFetcher } from "../../lib/transport/blob-fetcher";
import { DaemonClient } from "../../lib/transport/daemon-client";
import { openUnixConnection } from "../../lib/transport/unix-socket";
import { httpRequest } from "../daemon/face-client";
import { useTestDaemon } from "./harness";

jest.setTimeout(120_000);

const room = useTestDaemon();

function readInfo(): DaemonInfo {
  return JSON.parse(fs.readFileSync(daemonFiles(room().cacheDir).info, "utf8")) as DaemonInfo;
}

describe("the daemon's network face", () => {
  it("a client learns url and token from DaemonClient.status(), the same as daemon.json's", async () => {
    const info = readInfo();
    const status = await new DaemonClient({ socketPath: room().socketPath }).status();
    expect({ host: status.host, url: status.url, token: status.token }).toEqual({ host: info.host, url: info.url, token: info.token });
    expect(status.url).toBe(`http://127.0.0.1:${info.port}/`);
    expect(pageUrl(status.url, status.token)).toBe(`http://127.0.0.1:${info.port}/?token=${info.token}`);
  });

  it("/api/rooms lists a room a session joined over the socket; without the token it is 401", async () => {
    const session = room().session({ notebookId: "face-rooms" });
    await session.connect();
    const { port, token } = readInfo();
    const listed = await httpRequest(port, "/api/rooms", { headers: { authorization: `token ${token}` } });
    const rooms = (JSON.parse(listed.text) as { rooms: { notebook_id: string; clients: number; kernel_status: string }[] }).rooms;
    expect(rooms.find((entry) => entry.notebook_id === "face-rooms")).toEqual({ notebook_id: "face-rooms", clients: 1, kernel_status: "not_started", env_source: null });
    const status = await httpRequest(port, "/api/status", { headers: { authorization: `token ${token}` } });
    expect(JSON.parse(status.text)).toMatchObject({ protocol: PROTOCOL_VERSION });
    expect((await httpRequest(port, "/api/rooms")).status).toBe(401);
  });

  it("the handshake's blob_port is the face's port", async () => {
    const connection = await openUnixConnection({
      socketPath: room().socketPath,
      handshake: { channel: "notebook_sync", notebook_id: "face-handshake", protocol: PROTOCOL_VERSION },
    });
    try {
      expect(connection.blobs.port).toBe(readInfo().port);
    } finally {
      connection.close();
    }
  });

  it("a large output's blob resolves over HTTP through a BlobFetcher holding the token", async () => {
    const session = room().session({ notebookId: "face-blob" });
    const result = await session.run("print('z' * 50_000)", { timeoutSecs: 90 });
    expect(result.success).toBe(true);
    await session.flush();
    const { port, token } = readInfo();
    // The manifest as stored in the document, its payload a blob reference, as a remote client sees it.
    const doc = Automerge.load<{ cells: { outputs: string[] }[] }>(session.documentBytes());
    const manifest = decodeManifest(String(doc.cells.at(-1)!.outputs[0]));
    expect(JSON.stringify(manifest)).toContain('"blob"');
    const fetcher = new BlobFetcher(`http://127.0.0.1:${port}/`, { token });
    try {
      const output = (await fromManifest(manifest, fetcher)) as nbformat.IStream;
      expect(output.text).toBe("z".repeat(50_000) + "\n");
    } finally {
      fetcher.close();
    }
  });
});
