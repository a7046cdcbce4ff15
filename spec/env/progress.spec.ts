import { parseInstallerLine } from "../../lib/env/progress";

describe("parseInstallerLine", () => {
  it("reads pip's package lines", () => {
    expect(parseInstallerLine("Collecting numpy>=1.26")).toMatchObject({ phase: "installing", package: "numpy" });
    expect(parseInstallerLine("  Downloading rich-13.7.1-py3-none-any.whl (240 kB)")).toMatchObject({ package: "rich" });
    expect(parseInstallerLine("Installing collected packages: a, b")).toEqual({ phase: "installing", message: "Installing a, b" });
  });

  it("reads uv's package lines", () => {
    expect(parseInstallerLine(" + ipykernel==6.29.5")).toMatchObject({ phase: "installing", package: "ipykernel" });
    expect(parseInstallerLine("Resolved 23 packages in 120ms")).toMatchObject({ phase: "installing" });
  });

  it("ignores everything else", () => {
    expect(parseInstallerLine("WARNING: something")).toBeUndefined();
    expect(parseInstallerLine("")).toBeUndefined();
  });
});
