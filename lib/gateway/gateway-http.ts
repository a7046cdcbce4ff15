import * as http from "node:http";
import * as https from "node:https";
import { RuntimedError, type RuntimedErrorCode } from "../protocol/errors";
import type { GatewayConfig } from "./gateway-config";

/** A kernelspec the gateway offers. */
export interface GatewayKernelSpec {
  name: string;
  displayName: string;
  language: string;
}

/** What the gateway says about one of its kernels. */
export interface GatewayKernelModel {
  id: string;
  name: string;
  executionState: string | null;
}

/** Retries of a DELETE the server failed (it may be restarting the kernel just then). */
const DELETE_RETRIES = 4;

/** An HTTP answer: its status and parsed JSON body (undefined when empty or not JSON). */
interface HttpAnswer {
  status: number;
  body: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kernelModel(body: unknown, what: string): GatewayKernelModel {
  if (!isRecord(body) || typeof body.id !== "string") throw new RuntimedError("PROTOCOL", `${what}: the gateway answered without a kernel id`);
  return {
    id: body.id,
    name: typeof body.name === "string" ? body.name : "",
    executionState: typeof body.execution_state === "string" ? body.execution_state : null,
  };
}

/**
 * The Jupyter Server kernels REST API of one gateway: kernelspecs, start, interrupt, restart,
 * shutdown. Speaks node:http(s) with a keep-alive agent (Node's global fetch cannot turn off
 * certificate checks without the undici package, which is not a dependency) and sends the
 * configured auth token and headers on every request.
 *
 * ```ts
 * const http = new GatewayHttp(config);
 * const { specs } = await http.kernelspecs();
 * const kernel = await http.startKernel("python3", {});
 * await http.shutdownKernel(kernel.id);
 * http.close();
 * ```
 */
export class GatewayHttp {
  private readonly agent: http.Agent;
  /** Requests under way: `close()` lets them finish (a DELETE of a dead kernel, say) before it closes the agent. */
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(readonly config: GatewayConfig) {
    const secure = config.url.startsWith("https:");
    this.agent = secure ? new https.Agent({ keepAlive: true, rejectUnauthorized: config.validateCert }) : new http.Agent({ keepAlive: true });
  }

  /** Headers for every request and the WebSocket upgrade: the configured ones and the auth token. */
  headers(): Record<string, string> {
    const headers = { ...this.config.headers };
    if (this.config.authToken) headers.Authorization = `${this.config.authScheme} ${this.config.authToken}`;
    return headers;
  }

  /** The gateway's kernelspecs and its default one's name. Rejects KERNEL_FAILED when it cannot be asked. */
  async kernelspecs(timeoutMs?: number): Promise<{ defaultName: string | undefined; specs: GatewayKernelSpec[] }> {
    const answer = await this.expect("GET", "/api/kernelspecs", undefined, [200], "Listing the gateway's kernelspecs", "KERNEL_FAILED", timeoutMs);
    const body = isRecord(answer.body) ? answer.body : {};
    const specs: GatewayKernelSpec[] = [];
    for (const [key, entry] of Object.entries(isRecord(body.kernelspecs) ? body.kernelspecs : {})) {
      const spec = isRecord(entry) && isRecord(entry.spec) ? entry.spec : {};
      specs.push({
        name: isRecord(entry) && typeof entry.name === "string" ? entry.name : key,
        displayName: typeof spec.display_name === "string" ? spec.display_name : key,
        language: typeof spec.language === "string" ? spec.language : "",
      });
    }
    return { defaultName: typeof body.default === "string" ? body.default : undefined, specs };
  }

  /** Starts a kernel of `name` with `env` (Enterprise Gateway reads `KERNEL_*` from it). */
  async startKernel(name: string, env: Record<string, string>): Promise<GatewayKernelModel> {
    const answer = await this.expect("POST", "/api/kernels", { name, env }, [200, 201], `Starting kernel ${name} on the gateway`, "KERNEL_FAILED");
    return kernelModel(answer.body, `Starting kernel ${name}`);
  }

  /** The kernel's model, or undefined when the gateway does not know it (404). */
  async kernel(id: string): Promise<GatewayKernelModel | undefined> {
    const answer = await this.request("GET", this.kernelPath(id), undefined, "KERNEL_DIED");
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.failure(answer, `Asking the gateway about kernel ${id}`, "KERNEL_DIED");
    return kernelModel(answer.body, `Kernel ${id}`);
  }

  /** Asks the gateway to interrupt the kernel (it signals or messages it, per its kernelspec). */
  async interruptKernel(id: string): Promise<void> {
    await this.expect("POST", `${this.kernelPath(id)}/interrupt`, undefined, [200, 204], `Interrupting kernel ${id}`, "KERNEL_DIED");
  }

  /** Restarts the kernel on the gateway: same id, fresh process. Resolves once the server says it answers. */
  async restartKernel(id: string): Promise<void> {
    await this.expect("POST", `${this.kernelPath(id)}/restart`, undefined, [200], `Restarting kernel ${id}`, "KERNEL_FAILED");
  }

  /**
   * Shuts the kernel down (DELETE); a kernel the gateway no longer knows counts as shut down.
   * A server error is retried a few times: jupyter_server answers 500 to a DELETE that lands
   * while its restarter is still bringing the kernel back up.
   */
  async shutdownKernel(id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const answer = await this.request("DELETE", this.kernelPath(id), undefined, "KERNEL_DIED");
      if ([200, 204, 404].includes(answer.status)) return;
      const failed = this.failure(answer, `Shutting kernel ${id} down`, "KERNEL_DIED");
      if (answer.status < 500 || attempt >= DELETE_RETRIES) throw failed;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt).unref());
      if (this.closed) throw failed;
    }
  }

  /** Waits (a few seconds at most) for requests under way, then closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => (timer = setTimeout(resolve, 5000)));
    await Promise.race([Promise.allSettled([...this.inflight]), grace]);
    clearTimeout(timer);
    this.agent.destroy();
  }

  private kernelPath(id: string): string {
    return `/api/kernels/${encodeURIComponent(id)}`;
  }

  private async expect(
    method: string,
    path: string,
    body: unknown,
    statuses: number[],
    what: string,
    code: RuntimedErrorCode,
    timeoutMs?: number,
  ): Promise<HttpAnswer> {
    const answer = await this.request(method, path, body, code, timeoutMs);
    if (!statuses.includes(answer.status)) throw this.failure(answer, what, code);
    return answer;
  }

  /** An error for an unexpected status; 401/403 say the token was refused. */
  private failure(answer: HttpAnswer, what: string, code: RuntimedErrorCode): RuntimedError {
    if (answer.status === 401 || answer.status === 403) {
      const sent = this.config.authToken ? "refused the token" : "needs a token";
      return new RuntimedError(
        code,
        `${what}: the gateway at ${this.config.url} ${sent} (HTTP ${answer.status}); set JUPYTER_GATEWAY_AUTH_TOKEN or --gateway-token to its token`,
      );
    }
    const detail = isRecord(answer.body) && typeof answer.body.message === "string" ? `: ${answer.body.message}` : "";
    return new RuntimedError(code, `${what}: the gateway at ${this.config.url} answered HTTP ${answer.status}${detail}`);
  }

  /** One request; rejects `code` naming the URL when the gateway cannot be reached at all. */
  private request(method: string, path: string, body: unknown, code: RuntimedErrorCode, timeoutMs = this.config.requestTimeoutMs): Promise<HttpAnswer> {
    const url = new URL(this.config.url + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { ...this.headers(), Accept: "application/json" };
    if (payload) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(payload.length);
    }
    const send = url.protocol === "https:" ? https.request : http.request;
    const answer = new Promise<HttpAnswer>((resolve, reject) => {
      const request = send(url, { method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error) => reject(this.unreachable(error, code)));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
      });
      request.setTimeout(timeoutMs, () => {
        request.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" }));
      });
      request.on("error", (error) => reject(this.unreachable(error, code)));
      request.end(payload);
    });
    this.inflight.add(answer);
    const forget = () => this.inflight.delete(answer);
    answer.then(forget, forget);
    return answer;
  }

  private unreachable(error: Error & { code?: string }, code: RuntimedErrorCode): RuntimedError {
    const reason = error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
    const hint = /certificate|self.signed|CERT/i.test(reason) ? "; for a self-signed certificate set JUPYTER_GATEWAY_VALIDATE_CERT=false" : "";
    return new RuntimedError(code, `The gateway at ${this.config.url} is unreachable (${reason})${hint}`, { cause: error });
  }
}
