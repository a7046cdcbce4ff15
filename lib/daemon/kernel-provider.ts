import * as path from "node:path";
import { Kernel } from "../kernel/kernel";
import { findIpykernelPython, findKernelSpec, findKernelSpecs, pythonKernelSpec, type KernelSpec } from "../kernel/kernelspec";
import { RuntimedError } from "../protocol/errors";
import type { Logger } from "./logger";

/** What a room asks for when it needs a kernel. */
export interface KernelLaunchRequest {
  kernelType: string;
  envSource: string;
  notebookPath?: string;
  /** The notebook's metadata (inline dependencies live there). */
  metadata: Record<string, string>;
  onProgress?(progress: { phase: string; package?: string; fraction?: number; message?: string }): void;
}

/** A started kernel and the truthful label of what it runs in. */
export interface LaunchedKernel {
  kernel: Kernel;
  kernelType: string;
  envSource: string;
}

/** Turns a room's request into a running kernel: kernelspec, environment, process. */
export class KernelProvider {
  constructor(
    private readonly options: { kernelsDir: string; logger: Logger },
  ) {}

  async launch(request: KernelLaunchRequest): Promise<LaunchedKernel> {
    const { spec, envSource } = await this.resolveSpec(request);
    const cwd = request.notebookPath ? path.dirname(path.resolve(request.notebookPath)) : undefined;
    const kernel = await Kernel.launch({ spec, connectionDir: this.options.kernelsDir, cwd });
    this.options.logger.info("kernel started", { kernel: spec.name, pid: kernel.pid, env_source: envSource });
    return { kernel, kernelType: request.kernelType, envSource };
  }

  /** Stops background work (pools) and any kernel kept warm. */
  async close(): Promise<void> {}

  private async resolveSpec(request: KernelLaunchRequest): Promise<{ spec: KernelSpec; envSource: string }> {
    if (request.kernelType === "python") {
      const python = await findIpykernelPython();
      if (!python) {
        throw new RuntimedError(
          "KERNEL_FAILED",
          "No Python interpreter can import ipykernel; install it (Debian: apt-get install python3-ipykernel)",
        );
      }
      return { spec: pythonKernelSpec(python), envSource: `system:${python}` };
    }
    const spec = await findKernelSpec(request.kernelType);
    if (!spec) {
      const names = [...(await findKernelSpecs()).keys()].sort();
      throw new RuntimedError(
        "BAD_REQUEST",
        `No kernel ${JSON.stringify(request.kernelType)}; available: python${names.length ? ", " + names.join(", ") : ""}`,
      );
    }
    return { spec, envSource: `kernelspec:${spec.name}` };
  }
}
