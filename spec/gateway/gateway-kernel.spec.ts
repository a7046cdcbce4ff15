import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveGatewayConfig, type GatewayOptions } from "../../lib/gateway/gateway-config";
import { GatewayHttp } from "../../lib/gateway/gateway-http";
import { GatewayKernel } from "../../lib/gateway/gateway-kernel";
import type { JupyterMessage } from "../../lib/kernel/wire";
import { expectCode } from "../integration/harness";
import { startJupyterServer, type JupyterServer, type JupyterServerOptions } from "./jupyter-server";
import { startTcpProxy } from "./tcp-proxy";

jest.setTimeout(120_000);

const WAIT_MS = 30_000;
const PYTHON3 = { name: "python3", displayName: "Python 3", language: "python" };

/** Everything a test started, stopped in reverse order even when it failed. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: JupyterServerOptions = {}): Promise<JupyterServer> {
  const started = await startJupyterServer(options);
  cleanups.push(() => started.stop());
  return started;
}

async function connect(options: GatewayOptions): Promise<{ http: GatewayHttp; kernel: GatewayKernel }> {
  const http = new GatewayHttp(resolveGatewayConfig(options));
  cleanups.push(() => http.close());
  const model = await http.startKernel("python3", {});
  const kernel = await GatewayKernel.connect({ http, kernelId: model.id, spec: PYTHON3 });
  cleanups.push(() => kernel.shutdown());
  return { http, kernel };
}

/** Runs `code`: its reply, and every iopub message it caused up to its idle status. */
async function run(kernel: GatewayKernel, code: string): Promise<{ reply: JupyterMessage; iopub: JupyterMessage[] }> {
  const iopub: JupyterMessage[] = [];
  let msgId = "";
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no idle status for ${code} within ${WAIT_MS} ms`)), WAIT_MS);
    const subscription = kernel.iopub$.subscribe((message) => {
      if (message.parent_header.msg_id !== msgId) return;
      iopub.push(message);
      if (message.header.msg_type === "status" && message.content.execution_state === "idle") {
        subscription.unsubscribe();
        resolve();
      }
    });
  });
  const request = kernel.executeRequest(code);
  msgId = request.msgId;
  const [reply] = await Promise.all([request.reply, idle]).finally(() => clearTimeout(timer));
  return { reply, iopub };
}

const SEND_BUFFERS = "from ipykernel.comm import Comm\nc = Comm(target_name='probe')\nc.send({'k': 1}, buffers=[b'\\x00\\x01binary'])";

function commBuffers(iopub: JupyterMessage[]): number[][] {
  const message = iopub.find((m) => m.header.msg_type === "comm_msg");
  return (message?.buffers ?? []).map((buffer) => [...buffer]);
}

describe("GatewayKernel on jupyter_server's channels WebSocket", () => {
  it("speaks the v1 subprotocol where the server offers it, binary buffers included", async () => {
    const jupyter = await server();
    const { kernel } = await connect({ url: jupyter.url, authToken: jupyter.token });
    expect(kernel.channelsProtocol).toBe("v1");
    expect(kernel.pid).toBeNull();
    expect(kernel.kernelInfo).toMatchObject({ language_info: { name: "python" } });
    const { reply, iopub } = await run(kernel, SEND_BUFFERS);
    expect(reply.content.status).toBe("ok");
    expect(commBuffers(iopub)).toEqual([[0, 1, ...Buffer.from("binary")]]);
  });

  it("falls back to JSON messages when the server offers no subprotocol, binary buffers included", async () => {
    const jupyter = await server({ serverApp: { kernel_ws_protocol: "" } });
    const { kernel } = await connect({ url: jupyter.url, authToken: jupyter.token });
    expect(kernel.channelsProtocol).toBe("legacy");
    const { reply, iopub } = await run(kernel, `${SEND_BUFFERS}\n6 * 7`);
    expect(reply.content.status).toBe("ok");
    expect(iopub.find((m) => m.header.msg_type === "execute_result")?.content.data).toEqual({ "text/plain": "42" });
    expect(commBuffers(iopub)).toEqual([[0, 1, ...Buffer.from("binary")]]);
  });

  it("sends the token and the configured headers on REST requests and on the WebSocket upgrade", async () => {
    const jupyter = await server();
    const gate = await startTcpProxy(jupyter.port);
    cleanups.push(() => gate.close());
    const { kernel } = await connect({ url: gate.url, authToken: jupyter.token, headers: { "X-Runtimed-Test": "header-value" } });
    await run(kernel, "1");
    const requests = gate.sent().match(/(GET|POST|DELETE) \S+ HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n/g) ?? [];
    const upgrade = requests.find((head) => head.includes("/channels?session_id="));
    const start = requests.find((head) => head.startsWith("POST /api/kernels "));
    for (const head of [upgrade, start]) {
      expect(head).toMatch(new RegExp(`^authorization: token ${jupyter.token}$`, "im"));
      expect(head).toMatch(/^x-runtimed-test: header-value$/im);
    }
    expect(upgrade).toMatch(/^sec-websocket-protocol: v1.kernel.websocket.jupyter.org$/im);
  });

  it("over https with a self-signed certificate: refused by default with the fix in the message, used with validateCert false", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-tls-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const certFile = path.join(dir, "cert.pem");
    const keyFile = path.join(dir, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1"], {
      stdio: "ignore",
    });
    const jupyter = await server({ tls: { certFile, keyFile } });
    expect(jupyter.url).toMatch(/^https:/);

    const strict = new GatewayHttp(resolveGatewayConfig({ url: jupyter.url, authToken: jupyter.token }));
    cleanups.push(() => strict.close());
    const refused = await expectCode(strict.kernelspecs(), "KERNEL_FAILED");
    expect(refused.message).toContain(`The gateway at ${jupyter.url} is unreachable (`);
    expect(refused.message).toContain("set JUPYTER_GATEWAY_VALIDATE_CERT=false");

    const { kernel } = await connect({ url: jupyter.url, authToken: jupyter.token, validateCert: false });
    const { iopub } = await run(kernel, "print('over wss')");
    expect(iopub.find((m) => m.header.msg_type === "stream")?.content.text).toBe("over wss\n");
  });
});
