import { chooseGatewayKernelspec } from "../../lib/gateway/kernelspec-choice";
import type { GatewayKernelSpec } from "../../lib/gateway/gateway-http";
import { RuntimedError } from "../../lib/protocol/errors";

const URL = "https://eg.example.com";
const python3: GatewayKernelSpec = { name: "python3", displayName: "Python 3", language: "python" };
const sparkPython: GatewayKernelSpec = { name: "spark_python_k8s", displayName: "Spark - Python (Kubernetes)", language: "Python" };
const r: GatewayKernelSpec = { name: "ir", displayName: "R", language: "R" };

describe("choosing the gateway kernelspec for a kernelType", () => {
  it("python is the gateway's default kernelspec when that is a Python one", () => {
    expect(chooseGatewayKernelspec("python", "spark_python_k8s", [python3, sparkPython, r], URL)).toBe(sparkPython);
  });

  it("python is the first Python kernelspec by name when the default is another language", () => {
    expect(chooseGatewayKernelspec("python", "ir", [sparkPython, r, python3], URL)).toBe(python3);
  });

  it("any other kernelType names a kernelspec", () => {
    expect(chooseGatewayKernelspec("ir", "python3", [python3, r], URL)).toBe(r);
    expect(chooseGatewayKernelspec("python3", "ir", [python3, r], URL)).toBe(python3);
  });

  it("an unknown name is a BAD_REQUEST listing what the gateway offers and the local escape hatch", () => {
    let error: unknown;
    try {
      chooseGatewayKernelspec("julia", "python3", [python3, r], URL);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RuntimedError);
    expect((error as RuntimedError).code).toBe("BAD_REQUEST");
    expect((error as RuntimedError).message).toBe(
      'No kernelspec "julia" on the gateway at https://eg.example.com; it offers: python3 (Python 3, python), ir (R, R). ' +
        'Pass one of those names as kernelType, or location: "local" for a kernel on this machine',
    );
  });

  it("python on a gateway without Python says so", () => {
    expect(() => chooseGatewayKernelspec("python", "ir", [r], URL)).toThrow(/No Python kernelspec on the gateway at https:\/\/eg.example.com; it offers: ir/);
  });
});
