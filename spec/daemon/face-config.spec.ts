import { RuntimedError } from "../../lib/protocol/errors";
import { isLoopbackHost, isWildcardHost, normalizeOrigin, parsePort, resolveFaceConfig } from "../../lib/daemon/face-config";

function failure(run: () => unknown): RuntimedError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimedError);
    return error as RuntimedError;
  }
  throw new Error("expected a failure");
}

describe("resolveFaceConfig", () => {
  it("defaults to 127.0.0.1, any free port and no extra origins", () => {
    expect(resolveFaceConfig({}, {})).toEqual({ host: "127.0.0.1", port: 0, allowOrigins: [] });
  });

  it("reads RUNTIMED_HOST, RUNTIMED_PORT and a comma-separated RUNTIMED_ALLOW_ORIGIN", () => {
    const env = { RUNTIMED_HOST: "0.0.0.0", RUNTIMED_PORT: "8765", RUNTIMED_ALLOW_ORIGIN: "https://App.Example.com/, http://localhost:5173 ,," };
    expect(resolveFaceConfig({}, env)).toEqual({ host: "0.0.0.0", port: 8765, allowOrigins: ["https://app.example.com", "http://localhost:5173"] });
  });

  it("lets options win over the environment", () => {
    const env = { RUNTIMED_HOST: "0.0.0.0", RUNTIMED_PORT: "8765", RUNTIMED_ALLOW_ORIGIN: "https://env.example" };
    expect(resolveFaceConfig({ host: "[::1]", port: 0, allowOrigins: [] }, env)).toEqual({ host: "::1", port: 0, allowOrigins: [] });
  });

  it("refuses a malformed port, host or origin with BAD_REQUEST naming the setting", () => {
    for (const port of ["http", "-1", "65536", "80.5", ""]) {
      const error = failure(() => resolveFaceConfig({}, { RUNTIMED_PORT: port || " " }));
      expect({ port, code: error.code }).toEqual({ port, code: "BAD_REQUEST" });
      expect(error.message).toMatch(/^RUNTIMED_PORT must be a port number from 0 to 65535/);
    }
    expect(failure(() => resolveFaceConfig({ host: "http://example.com" }, {})).message).toMatch(/^host must be a host name or an IP address/);
    expect(failure(() => resolveFaceConfig({}, { RUNTIMED_HOST: "a b" })).message).toMatch(/^RUNTIMED_HOST must be/);
    expect(failure(() => resolveFaceConfig({}, { RUNTIMED_ALLOW_ORIGIN: "https://app.example.com/path" })).message).toMatch(/^RUNTIMED_ALLOW_ORIGIN takes web origins/);
  });
});

describe("parsePort", () => {
  it("reads whole numbers from 0 to 65535", () => {
    expect([parsePort("0", "--port"), parsePort(" 8765 ", "--port"), parsePort("65535", "--port")]).toEqual([0, 8765, 65535]);
    expect(failure(() => parsePort("1e3", "--port")).message).toBe("--port must be a port number from 0 to 65535 (0: any free port), not '1e3'");
  });
});

describe("normalizeOrigin", () => {
  it("writes an origin the way a browser's Origin header does", () => {
    expect(normalizeOrigin("HTTPS://App.Example.COM:443/")).toBe("https://app.example.com");
    expect(normalizeOrigin("http://localhost:80")).toBe("http://localhost");
    expect(normalizeOrigin("http://[::1]:5173")).toBe("http://[::1]:5173");
    expect(normalizeOrigin("vscode-webview://abc123")).toBe("vscode-webview://abc123");
    expect(normalizeOrigin("null")).toBe("null");
  });

  it("refuses what is not an origin: paths, queries, credentials, bare words", () => {
    for (const text of ["https://a.example/x", "https://a.example?x=1", "https://user@a.example", "a.example", "*", ""]) {
      expect({ text, code: failure(() => normalizeOrigin(text, "--allow-origin")).code }).toEqual({ text, code: "BAD_REQUEST" });
    }
  });
});

describe("isLoopbackHost / isWildcardHost", () => {
  it("tells loopback from the rest", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"].map(isLoopbackHost)).toEqual(Array(7).fill(true));
    expect(["0.0.0.0", "::", "192.168.1.5", "example.com", "128.0.0.1"].map(isLoopbackHost)).toEqual(Array(5).fill(false));
    expect(["0.0.0.0", "::", "127.0.0.1"].map(isWildcardHost)).toEqual([true, true, false]);
  });
});
