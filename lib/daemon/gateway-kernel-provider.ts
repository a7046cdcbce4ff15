import type { GatewayConfig } from "../gateway/gateway-config";
import { GatewayHttp } from "../gateway/gateway-http";
import { findInlineDeps } from "../env/inline-deps";
import { GatewayKernel } from "../gateway/gateway-kernel";
import { chooseGatewayKernelspec } from "../gateway/kernelspec-choice";
import { RuntimedError, toRuntimedError } from "../protocol/errors";
import type { GatewayStatus } from "../protocol/messages";
import type { KernelLaunchRequest, LaunchedKernel } from "./kernel-provider";
import type { Logger } from "./logger";

/** How long `runtimed daemon status` waits for the gateway to answer. */
const STATUS_TIMEOUT_MS = 5000;

/**
 * Starts rooms' kernels on a Jupyter Server or Enterprise Gateway: the kernelspec the request
 * names (`python`: the gateway's default or first Python kernelspec), started with
 * `POST /api/kernels` and spoken to over its channels WebSocket. Local environment detection
 * does not apply: the label is `gateway:<kernelspec>`.
 *
 * ```ts
 * const gateway = new GatewayKernelProvider(config, logger);
 * const { kernel, envSource } = await gateway.launch({ kernelType: "python", envSource: "auto", metadata: {} });
 * await gateway.close();
 * ```
 */
export class GatewayKernelProvider {
  private readonly http: GatewayHttp;

  constructor(
    readonly config: GatewayConfig,
    private readonly logger: Logger,
  ) {
    this.http = new GatewayHttp(config);
  }

  /** Starts a kernel on the gateway; rejects KERNEL_FAILED naming the gateway, BAD_REQUEST for an unknown kernelspec. */
  async launch(request: KernelLaunchRequest): Promise<LaunchedKernel> {
    if (request.envSource !== "auto") {
      throw new RuntimedError(
        "BAD_REQUEST",
        `envSource ${JSON.stringify(request.envSource)} picks an environment on this machine, but kernels start on the gateway at ${this.config.url}; ` +
          `use envSource "auto" there, or location: "local" for a kernel on this machine`,
      );
    }
    const { defaultName, specs } = await this.http.kernelspecs();
    const spec = chooseGatewayKernelspec(request.kernelType, defaultName, specs, this.config.url);
    if (hasInlineDependencies(request.metadata)) {
      this.logger.warn("the notebook's inline dependencies are not installed on the gateway", { kernelspec: spec.name });
    }
    request.onProgress?.({ phase: "creating", message: `Starting ${spec.name} on the gateway at ${this.config.url}` });
    const model = await this.http.startKernel(spec.name, this.config.kernelEnv);
    let kernel: GatewayKernel;
    try {
      kernel = await GatewayKernel.connect({ http: this.http, kernelId: model.id, spec, log: this.logger });
    } catch (error) {
      throw toRuntimedError(error, "KERNEL_FAILED");
    }
    request.onProgress?.({ phase: "ready", fraction: 1, message: `Kernel ${spec.name} started on the gateway` });
    this.logger.info("kernel started on the gateway", {
      gateway: this.config.url,
      kernel_id: kernel.id,
      kernelspec: spec.name,
      channels: kernel.channelsProtocol,
    });
    const launched: LaunchedKernel = {
      kernel,
      kernelType: request.kernelType,
      envSource: `gateway:${spec.name}`,
      // The gateway restarts the kernel in place: same id, same connection, fresh process.
      restart: async () => {
        await kernel.restart();
        this.logger.info("kernel restarted on the gateway", { kernel_id: kernel.id });
        return launched;
      },
    };
    return launched;
  }

  /** The gateway's URL and whether it answers now (bounded to a few seconds). */
  async status(): Promise<GatewayStatus> {
    try {
      const { defaultName, specs } = await this.http.kernelspecs(STATUS_TIMEOUT_MS);
      return { url: this.config.url, reachable: true, default_kernelspec: defaultName ?? null, kernelspecs: specs.map((spec) => spec.name), error: null };
    } catch (error) {
      return { url: this.config.url, reachable: false, default_kernelspec: null, kernelspecs: [], error: toRuntimedError(error).message };
    }
  }

  /** Lets requests under way finish, then closes the connections. Kernels handed out are their rooms'. */
  async close(): Promise<void> {
    await this.http.close();
  }
}

function hasInlineDependencies(metadata: Record<string, string>): boolean {
  try {
    return findInlineDeps(metadata) !== undefined;
  } catch {
    return false; // malformed declarations matter to local environments only
  }
}
