import { parsePyproject } from "../../lib/env/pyproject";

const parse = (lines: string[]) => parsePyproject(lines.join("\n") + "\n", "/x/pyproject.toml");

describe("parsePyproject", () => {
  it("reads a multi-line dependencies array with comments, both quote styles and a trailing comma", () => {
    const info = parse([
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
      'extra = ["pytest"]',
    ]);
    expect(info).toEqual({
      dependencies: ["pandas>=2.0", "rich[jupyter]", 'numpy ; python_version >= "3.10"'],
      groups: [],
      python: ">=3.10",
      isPixiManifest: false,
    });
  });

  it("reads dotted keys, literal and multi-line strings", () => {
    const info = parse([
      'project.name = "dotted"',
      "project.dependencies = ['numpy>=1.26', \"\"\"pandas\"\"\"]",
      "project.requires-python = '>=3.11'",
    ]);
    expect(info).toMatchObject({ dependencies: ["numpy>=1.26", "pandas"], python: ">=3.11" });
  });

  it("gives no dependencies when [project] declares none, and ignores other tables' keys", () => {
    expect(parse(["[tool.black]", 'dependencies = ["not-these"]', "line-length = 100"])).toEqual({
      dependencies: [],
      groups: [],
      isPixiManifest: false,
    });
  });

  it("adds the dev dependency group, with its includes, as uv run installs it by default", () => {
    const info = parse([
      "[project]",
      'dependencies = ["pandas"]',
      "[dependency-groups]",
      'test = ["pytest>=8"]',
      'dev = [{include-group = "test"}, "ruff", "pandas"]',
      'docs = ["mkdocs"]',
    ]);
    expect(info).toMatchObject({ dependencies: ["pandas", "pytest>=8", "ruff"], groups: ["dev"] });
  });

  it("follows [tool.uv] default-groups (a list, or all) and the legacy [tool.uv] dev-dependencies", () => {
    const groups = ["[dependency-groups]", 'dev = ["ruff"]', 'docs = ["mkdocs"]', 'lint = ["mypy"]'];
    expect(parse([...groups, "[tool.uv]", 'default-groups = ["docs", "lint"]'])).toMatchObject({ dependencies: ["mkdocs", "mypy"], groups: ["docs", "lint"] });
    expect(parse([...groups, "[tool.uv]", 'default-groups = "all"'])).toMatchObject({ dependencies: ["ruff", "mkdocs", "mypy"] });
    expect(parse(["[tool.uv]", 'dev-dependencies = ["pytest"]'])).toMatchObject({ dependencies: ["pytest"], groups: ["dev"] });
    expect(parse(["[dependency-groups]", 'docs = ["mkdocs"]'])).toMatchObject({ dependencies: [], groups: [] });
  });

  it("rejects a group that includes itself and a default group that does not exist", () => {
    expect(() => parse(["[dependency-groups]", 'dev = [{include-group = "a"}]', 'a = [{include-group = "dev"}]'])).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining("includes itself: dev -> a -> dev") }),
    );
    expect(() => parse(["[dependency-groups]", 'dev = ["ruff"]', "[tool.uv]", 'default-groups = ["nope"]'])).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining('the group "nope"') }),
    );
  });

  it("notices a [tool.pixi] table, also written as dotted keys", () => {
    expect(parse(["[tool.pixi.workspace]", 'channels = ["conda-forge"]']).isPixiManifest).toBe(true);
    expect(parse(['tool.pixi.dependencies.python = "3.12.*"']).isPixiManifest).toBe(true);
  });

  it("throws ENV_FAILED naming the file, line and column of a TOML syntax error", () => {
    expect(() => parse(["[project]", "dependencies = [", '  "a",', "  pandas2,", "]"])).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringMatching(/^Cannot read \/x\/pyproject\.toml, line 4, column \d+/) }),
    );
  });

  it("throws ENV_FAILED naming the table of a non-string dependency", () => {
    expect(() => parse(["[project]", 'dependencies = ["a", 42]'])).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining("/x/pyproject.toml [project] dependencies must be an array of strings; item 2 is 42") }),
    );
  });

  it("throws ENV_FAILED naming a dependency that is an installer option, and where it is", () => {
    expect(() => parse(["[dependency-groups]", 'dev = ["--index-url=http://example.invalid"]'])).toThrow(
      expect.objectContaining({
        code: "ENV_FAILED",
        message: expect.stringContaining('"--index-url=http://example.invalid" in /x/pyproject.toml [dependency-groups] dev'),
      }),
    );
  });
});
