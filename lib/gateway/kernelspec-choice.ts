import { RuntimedError } from "../protocol/errors";
import type { GatewayKernelSpec } from "./gateway-http";

function isPython(spec: GatewayKernelSpec): boolean {
  return spec.language.toLowerCase() === "python";
}

/**
 * The gateway kernelspec a `kernelType` asks for: `"python"` is the gateway's default
 * kernelspec when that is a Python one, else the first Python kernelspec by name; any other
 * kernelType is a kernelspec name. Throws BAD_REQUEST listing what the gateway offers.
 *
 * ```ts
 * chooseGatewayKernelspec("python", "python3", specs);  // the python3 spec
 * ```
 */
export function chooseGatewayKernelspec(
  kernelType: string,
  defaultName: string | undefined,
  specs: GatewayKernelSpec[],
  gatewayUrl: string,
): GatewayKernelSpec {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  if (kernelType === "python") {
    const preferred = defaultName === undefined ? undefined : byName.get(defaultName);
    if (preferred && isPython(preferred)) return preferred;
    const first = [...specs].sort((a, b) => a.name.localeCompare(b.name)).find(isPython);
    if (first) return first;
  } else {
    const named = byName.get(kernelType);
    if (named) return named;
  }
  const offered = specs.length
    ? specs.map((spec) => `${spec.name} (${spec.displayName}${spec.language ? `, ${spec.language}` : ""})`).join(", ")
    : "none";
  const wanted = kernelType === "python" ? "No Python kernelspec" : `No kernelspec ${JSON.stringify(kernelType)}`;
  return fail(`${wanted} on the gateway at ${gatewayUrl}; it offers: ${offered}. Pass one of those names as kernelType, or location: "local" for a kernel on this machine`);
}

function fail(message: string): never {
  throw new RuntimedError("BAD_REQUEST", message);
}
