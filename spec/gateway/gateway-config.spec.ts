import { gatewayConfigFromEnv, resolveGatewayConfig } from "../../lib/gateway/gateway-config";
import type { RuntimedError } from "../../lib/protocol/errors";
import { expectThrownCode } from "../expect-code";

function refused(run: () => unknown): RuntimedError {
  return expectThrownCode(run, "BAD_REQUEST");
}

describe("gateway configuration from Jupyter's environment variables", () => {
  it("no JUPYTER_GATEWAY_URL means no gateway", () => {
    expect(gatewayConfigFromEnv({ JUPYTER_GATEWAY_AUTH_TOKEN: "t" })).toBeUndefined();
  });

  it("reads the URL, token, headers, certificate check and retry settings with Jupyter's names", () => {
    const config = gatewayConfigFromEnv({
      JUPYTER_GATEWAY_URL: "https://eg.example.com:8888/base/",
      JUPYTER_GATEWAY_AUTH_TOKEN: "s3cret",
      JUPYTER_GATEWAY_HEADERS: '{"X-Team": "data"}',
      JUPYTER_GATEWAY_VALIDATE_CERT: "false",
      JUPYTER_GATEWAY_RETRY_INTERVAL: "0.5",
      JUPYTER_GATEWAY_RETRY_INTERVAL_MAX: "4",
      JUPYTER_GATEWAY_RETRY_MAX: "3",
      JUPYTER_GATEWAY_REQUEST_TIMEOUT: "10",
    })!;
    expect(config).toMatchObject({
      url: "https://eg.example.com:8888/base",
      wsUrl: "wss://eg.example.com:8888/base",
      authToken: "s3cret",
      authScheme: "token",
      headers: { "X-Team": "data" },
      validateCert: false,
      retryIntervalMs: 500,
      retryIntervalMaxMs: 4000,
      retryMax: 3,
      requestTimeoutMs: 10_000,
      tcpNoDelay: true,
    });
  });

  it("validates certificates unless told no or false, as Jupyter does", () => {
    const url = "https://eg.example.com";
    expect(gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: url })!.validateCert).toBe(true);
    expect(gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: url, JUPYTER_GATEWAY_VALIDATE_CERT: "True" })!.validateCert).toBe(true);
    expect(gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: url, JUPYTER_GATEWAY_VALIDATE_CERT: "no" })!.validateCert).toBe(false);
    expect(gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: url, JUPYTER_GATEWAY_VALIDATE_CERT: "FALSE" })!.validateCert).toBe(false);
  });

  it("command-line flags override the environment", () => {
    const config = gatewayConfigFromEnv(
      { JUPYTER_GATEWAY_URL: "http://env.example:1", JUPYTER_GATEWAY_AUTH_TOKEN: "from-env" },
      { url: "http://flag.example:2", authToken: "from-flag" },
    )!;
    expect(config.url).toBe("http://flag.example:2");
    expect(config.authToken).toBe("from-flag");
    expect(gatewayConfigFromEnv({ JUPYTER_GATEWAY_AUTH_TOKEN: "from-env" }, { url: "http://flag.example:2" })!.authToken).toBe("from-env");
  });

  it("passes KERNEL_* variables and whitelisted ones to kernels, as Enterprise Gateway expects", () => {
    const config = gatewayConfigFromEnv({
      JUPYTER_GATEWAY_URL: "http://gw:8888",
      KERNEL_USERNAME: "ada",
      SPARK_HOME: "/opt/spark",
      SECRET: "no",
      JUPYTER_GATEWAY_ENV_WHITELIST: "SPARK_HOME, OTHER",
    })!;
    expect(config.kernelEnv).toEqual({ KERNEL_USERNAME: "ada", SPARK_HOME: "/opt/spark", KERNEL_LAUNCH_TIMEOUT: "40" });
  });

  it("keeps KERNEL_LAUNCH_TIMEOUT and the request timeout in step, as Jupyter does", () => {
    const longLaunch = gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "http://gw", KERNEL_LAUNCH_TIMEOUT: "300" })!;
    expect(longLaunch.requestTimeoutMs).toBe(302_000);
    expect(longLaunch.kernelEnv.KERNEL_LAUNCH_TIMEOUT).toBe("300");
    const longRequest = gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "http://gw", JUPYTER_GATEWAY_REQUEST_TIMEOUT: "120" })!;
    expect(longRequest.requestTimeoutMs).toBe(120_000);
    expect(longRequest.kernelEnv.KERNEL_LAUNCH_TIMEOUT).toBe("118");
  });

  it("an explicit WebSocket URL is kept", () => {
    expect(gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "http://gw:8888", JUPYTER_GATEWAY_WS_URL: "wss://ws.gw:9443" })!.wsUrl).toBe("wss://ws.gw:9443");
  });

  it("malformed values are refused with a message naming the variable and the expected form", () => {
    expect(refused(() => gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "gw.example.com:8888" })).message).toContain("must start with http:// or https://");
    expect(refused(() => gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "not a url" })).message).toContain("is not a URL");
    expect(refused(() => gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "http://gw", JUPYTER_GATEWAY_HEADERS: "{nope" })).message).toContain("JUPYTER_GATEWAY_HEADERS is not JSON");
    expect(refused(() => gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "http://gw", JUPYTER_GATEWAY_HEADERS: '{"n": 1}' })).message).toContain("object of string values");
    expect(refused(() => gatewayConfigFromEnv({ JUPYTER_GATEWAY_URL: "http://gw", JUPYTER_GATEWAY_RETRY_INTERVAL: "soon" })).message).toContain("JUPYTER_GATEWAY_RETRY_INTERVAL");
    expect(refused(() => resolveGatewayConfig({ url: "http://user:pw@gw" })).message).toContain("must not carry credentials");
  });
});
