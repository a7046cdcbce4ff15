import { ENV_SOURCES, envLabel, parseEnvSource } from "../../lib/env/env-source";
import { RuntimedError } from "../../lib/protocol/errors";

describe("parseEnvSource", () => {
  it("splits explicit sources into backend and kind", () => {
    expect(parseEnvSource("auto")).toEqual({ kind: "auto" });
    expect(parseEnvSource("uv:prewarmed")).toEqual({ kind: "prewarmed", backend: "uv" });
    expect(parseEnvSource("venv:pyproject")).toEqual({ kind: "pyproject", backend: "venv" });
    expect(parseEnvSource("conda:env_yml")).toEqual({ kind: "env_yml", backend: "conda" });
  });

  it("accepts every listed source", () => {
    for (const source of ENV_SOURCES) expect(() => parseEnvSource(source)).not.toThrow();
  });

  it("rejects an unknown source with BAD_REQUEST listing the valid ones", () => {
    const error = (() => {
      try {
        parseEnvSource("venv:pixi");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RuntimedError);
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect((error as Error).message).toContain('"conda:pixi"');
    expect((error as Error).message).toContain('"venv:prewarmed"');
  });
});

describe("envLabel", () => {
  it("names the backend that built the env and the kind of request", () => {
    expect(envLabel("venv", "prewarmed")).toBe("venv:prewarmed");
    expect(envLabel("uv", "inline")).toBe("uv:inline");
    expect(envLabel("conda", "env_yml")).toBe("conda:env_yml");
  });
});
