import { parsePixiManifest } from "../../lib/env/pixi";

describe("parsePixiManifest", () => {
  it("turns [dependencies] into conda specs and reads the workspace channels", () => {
    const text = [
      "[project]",
      'channels = ["conda-forge", "bioconda"]',
      "",
      "[dependencies]",
      'python = "3.12.*"',
      'numpy = "*"',
      '"scikit-learn" = { version = ">=1.4" }',
      'pytorch = { version = "2.*", channel = "pytorch", build = "*cuda*" }',
    ].join("\n");
    expect(parsePixiManifest(text, "/p/pixi.toml")).toEqual({
      channels: ["conda-forge", "bioconda"],
      dependencies: ["python 3.12.*", "numpy", "scikit-learn >=1.4", "pytorch::pytorch 2.* *cuda*"],
      pipDependencies: [],
    });
  });

  it("turns [pypi-dependencies] into PEP 508 requirements, with extras, URLs, git refs and paths", () => {
    const text = [
      "[workspace]",
      'channels = ["conda-forge"]',
      "[pypi-dependencies]",
      'requests = ">=2.31"',
      'rich = "*"',
      'httpx = { version = ">=0.27", extras = ["http2"] }',
      'wheel-pkg = { url = "https://example.com/w-1.0-py3-none-any.whl" }',
      'tool = { git = "https://github.com/o/tool", rev = "abc123" }',
      'local = { path = "./libs/local", editable = true }',
    ].join("\n");
    expect(parsePixiManifest(text, "/p/pixi.toml").pipDependencies).toEqual([
      "requests>=2.31",
      "rich",
      "httpx[http2]>=0.27",
      "wheel-pkg @ https://example.com/w-1.0-py3-none-any.whl",
      "tool @ git+https://github.com/o/tool@abc123",
      "local @ file:///p/libs/local",
    ]);
  });

  it("reads the same tables under [tool.pixi] in a pyproject.toml, dotted keys included", () => {
    const text = ['tool.pixi.workspace.channels = ["conda-forge"]', "[project]", 'name = "x"', "[tool.pixi.dependencies]", 'python = "3.11.*"', "[tool.pixi.pypi-dependencies]", 'rich = ">=13"'].join("\n");
    expect(parsePixiManifest(text, "/p/pyproject.toml")).toEqual({ channels: ["conda-forge"], dependencies: ["python 3.11.*"], pipDependencies: ["rich>=13"] });
  });

  it("throws ENV_FAILED with the line of a syntax error and the table of a bad value", () => {
    expect(() => parsePixiManifest("[dependencies]\nnumpy = >=1\n", "/p/pixi.toml")).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining("/p/pixi.toml, line 2") }),
    );
    expect(() => parsePixiManifest('[dependencies]\nnumpy = "--offline"\n', "/p/pixi.toml")).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining("/p/pixi.toml [dependencies]") }),
    );
    expect(() => parsePixiManifest('[workspace]\nchannels = ["-c"]\n', "/p/pixi.toml")).toThrow(expect.objectContaining({ code: "ENV_FAILED" }));
  });
});
