import { parseEnvironmentYml } from "../../lib/env/environment-yml";
import { parsePixiManifest } from "../../lib/env/pixi";

describe("parseEnvironmentYml", () => {
  it("reads channels, conda dependencies and the nested pip list", () => {
    const text = [
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
    ].join("\n");
    expect(parseEnvironmentYml(text, "environment.yml")).toEqual({
      channels: ["conda-forge", "defaults"],
      dependencies: ["python=3.11", "numpy>=1.26", "pip", "scipy"],
      pipDependencies: ["requests", "rich>=13"],
    });
  });

  it("reads flow-style lists", () => {
    expect(parseEnvironmentYml("channels: [conda-forge]\ndependencies: [numpy, 'pandas']\n", "e")).toEqual({
      channels: ["conda-forge"],
      dependencies: ["numpy", "pandas"],
      pipDependencies: [],
    });
  });

  it("throws ENV_FAILED for tab indentation and for entries it cannot read", () => {
    expect(() => parseEnvironmentYml("dependencies:\n\t- numpy\n", "e")).toThrow(expect.objectContaining({ code: "ENV_FAILED" }));
    expect(() => parseEnvironmentYml("dependencies:\n  numpy\n", "e")).toThrow(
      expect.objectContaining({ code: "ENV_FAILED", message: expect.stringContaining("line 2") }),
    );
  });
});

describe("parsePixiManifest", () => {
  it("turns [dependencies] into conda specs and reads the workspace channels", () => {
    const text = '[project]\nchannels = ["conda-forge", "bioconda"]\n\n[dependencies]\npython = "3.12.*"\nnumpy = "*"\n"scikit-learn" = { version = ">=1.4" }\n';
    expect(parsePixiManifest(text, "pixi.toml")).toEqual({
      channels: ["conda-forge", "bioconda"],
      dependencies: ["python 3.12.*", "numpy", "scikit-learn >=1.4"],
    });
  });
});
