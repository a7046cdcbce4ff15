import { parsePyproject } from "../../lib/env/pyproject";

describe("parsePyproject", () => {
  it("reads a multi-line dependencies array with comments, both quote styles and a trailing comma", () => {
    const text = [
      "[build-system]",
      'requires = ["hatchling"]',
      "",
      "[project]",
      'name = "demo"',
      'requires-python = ">=3.10"',
      "dependencies = [",
      '  "pandas>=2.0",  # data',
      "  'rich[jupyter]',",
      '  "numpy ; python_version >= \\"3.10\\"",',
      "]",
      "",
      "[project.optional-dependencies]",
      'dev = ["pytest"]',
    ].join("\n");
    expect(parsePyproject(text, "pyproject.toml")).toEqual({
      dependencies: ["pandas>=2.0", "rich[jupyter]", 'numpy ; python_version >= "3.10"'],
      python: ">=3.10",
      isPixiManifest: false,
    });
  });

  it("gives no dependencies when [project] declares none, and ignores other tables' keys", () => {
    const text = '[tool.black]\ndependencies = ["not-these"]\nline-length = 100\n';
    expect(parsePyproject(text, "pyproject.toml")).toEqual({ dependencies: [], python: undefined, isPixiManifest: false });
  });

  it("does not mistake a bracket line inside a skipped array for a table header", () => {
    const text = '[project]\nclassifiers = [\n  "A",\n]\n[tool.x]\nlist = [\n[1, 2],\n]\n[project.urls]\nx = "y"\n';
    expect(parsePyproject(text, "p").dependencies).toEqual([]);
  });

  it("throws ENV_FAILED with the line of a non-string dependency", () => {
    expect(() => parsePyproject('[project]\ndependencies = [\n  "a",\n  42,\n]\n', "/x/pyproject.toml")).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining("/x/pyproject.toml, line 4") }),
    );
  });
});
