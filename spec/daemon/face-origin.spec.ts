import * as os from "node:os";
import { OriginPolicy } from "../../lib/daemon/face-origin";

describe("OriginPolicy.hostAllowed", () => {
  const loopback = new OriginPolicy({ host: "127.0.0.1", allowOrigins: ["https://proxy.example.com"] });

  it("accepts IP literals, localhost and allow-listed origins' host names, on any port", () => {
    for (const host of ["127.0.0.1:8765", "[::1]:8765", "192.168.1.20", "localhost", "localhost.:9000", "proxy.example.com", "PROXY.example.com:443"]) {
      expect({ host, allowed: loopback.hostAllowed(host) }).toEqual({ host, allowed: true });
    }
  });

  it("refuses other names (a DNS rebinding) and anything that is not a plain host", () => {
    for (const host of [undefined, "", "evil.example", "localhost.evil.example", "127.0.0.1.evil.example", "a@127.0.0.1", "127.0.0.1/x", "127.0.0.1 x", "[::1"]) {
      expect({ host, allowed: loopback.hostAllowed(host) }).toEqual({ host, allowed: false });
    }
  });

  it("accepts this machine's host name only when listening beyond loopback", () => {
    const name = os.hostname().toLowerCase();
    const everywhere = new OriginPolicy({ host: "0.0.0.0", allowOrigins: [] });
    expect(everywhere.hostAllowed(`${name}:8765`)).toBe(true);
    if (name !== "localhost") expect(loopback.hostAllowed(`${name}:8765`)).toBe(false);
  });
});

describe("OriginPolicy.originAllowed", () => {
  const policy = new OriginPolicy({ host: "127.0.0.1", allowOrigins: ["https://app.example.com", "null"] });

  it("allows no Origin (a program), the daemon's own origin over http or https, and the allow-list", () => {
    expect(policy.originAllowed(undefined, "127.0.0.1:8765")).toBe(true);
    expect(policy.originAllowed("http://127.0.0.1:8765", "127.0.0.1:8765")).toBe(true);
    expect(policy.originAllowed("https://127.0.0.1:8765", "127.0.0.1:8765")).toBe(true);
    expect(policy.originAllowed("http://LOCALHOST:8765", "localhost:8765")).toBe(true);
    expect(policy.originAllowed("https://app.example.com", "127.0.0.1:8765")).toBe(true);
    expect(policy.originAllowed("null", "127.0.0.1:8765")).toBe(true);
  });

  it("refuses every other origin, lookalikes and other ports of the same host included", () => {
    for (const origin of ["https://evil.example", "http://127.0.0.1:8766", "http://localhost:8765", "https://app.example.com.evil.example", "http://app.example.com", "garbage"]) {
      expect({ origin, allowed: policy.originAllowed(origin, "127.0.0.1:8765") }).toEqual({ origin, allowed: false });
    }
  });

  it("answers CORS only for allow-listed origins, never for null", () => {
    expect(policy.corsOrigin("https://app.example.com")).toBe("https://app.example.com");
    expect(policy.corsOrigin("null")).toBeUndefined();
    expect(policy.corsOrigin("http://127.0.0.1:8765")).toBeUndefined();
    expect(policy.corsOrigin(undefined)).toBeUndefined();
  });
});
