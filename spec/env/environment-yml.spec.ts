import { parseEnvironmentYml } from "../../lib/env/environment-yml";

const parse = (lines: string[]) => parseEnvironmentYml(lines.join("\n") + "\n", "/p/environment.yml");

describe("parseEnvironmentYml", () => {
  it("reads channels, conda dependencies and the nested pip list", () => {
    const info = parse([
      "name: demo  # ignored",
      "channels:",
      "  - conda-forge",
      "  - defaults",
      "dependencies:",
      "  - python=3.11",
      "  - 'numpy>=1.26'",
      "  - pip",
      "  - pip:",
      "      - requests",
      '      - "rich>=13"',
      "  - scipy",
      "variables:",
      "  FOO: bar",
    ]);
    expect(info).toEqual({
      channels: ["conda-forge", "defaults"],
      dependencies: ["python=3.11", "numpy>=1.26", "pip", "scipy"],
      pipDependencies: ["requests", "rich>=13"],
    });
  });

  it("reads lists that start at column 0, as conda env export writes them", () => {
    const info = parse(["name: col0", "channels:", "- conda-forge", "dependencies:", "- python=3.11", "- numpy", "- pip:", "  - requests", "prefix: /opt/env"]);
    expect(info).toEqual({ channels: ["conda-forge"], dependencies: ["python=3.11", "numpy"], pipDependencies: ["requests"] });
  });

  it("reads flow-style lists, comments and quoted strings", () => {
    expect(parse(["channels: [conda-forge] # main", "dependencies: [numpy, 'pandas >=2', \"pip\", {pip: [httpx]}]"])).toEqual({
      channels: ["conda-forge"],
      dependencies: ["numpy", "pandas >=2", "pip"],
      pipDependencies: ["httpx"],
    });
  });

  it("reads an empty file, and keys without values, as no packages", () => {
    expect(parse([""])).toEqual({ channels: [], dependencies: [], pipDependencies: [] });
    expect(parse(["name: x", "dependencies:"])).toEqual({ channels: [], dependencies: [], pipDependencies: [] });
  });

  it("throws ENV_FAILED with the file and line of a YAML syntax error", () => {
    expect(() => parse(["dependencies:", "\t- numpy"])).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringMatching(/^Cannot read \/p\/environment\.yml, line 2: .*[Tt]ab/) }),
    );
    expect(() => parse(["dependencies: [numpy", "channels: x"])).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining("/p/environment.yml, line ") }),
    );
  });

  it("throws ENV_FAILED with the line of an entry that is not a package", () => {
    expect(() => parse(["dependencies: numpy"])).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: 'Cannot read /p/environment.yml, line 1: "dependencies" must be a list' }),
    );
    expect(() => parse(["dependencies:", "  - numpy", "  - 3.11"])).toThrow(
      expect.objectContaining({ message: expect.stringContaining("line 3: expected a package name in dependencies, found 3.11") }),
    );
    expect(() => parse(["dependencies:", "  - numpy", "  - conda: [x]"])).toThrow(expect.objectContaining({ message: expect.stringContaining("line 3") }));
  });

  it("refuses pip options in the pip list, naming the line", () => {
    expect(() => parse(["dependencies:", "  - pip:", "    - --index-url http://example.invalid", "    - requests"])).toThrow(
      expect.objectContaining({
        code: "ENV_FAILED",
        message: expect.stringContaining('"--index-url http://example.invalid" in /p/environment.yml, line 3, pip'),
      }),
    );
    expect(() => parse(["dependencies:", "  - -c defaults"])).toThrow(expect.objectContaining({ message: expect.stringContaining("line 2, dependencies") }));
  });
});
