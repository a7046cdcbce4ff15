import { checkChannels, checkPythonVersion, checkRequirements, requirementProblem } from "../../lib/env/requirements";
import { RuntimedError } from "../../lib/protocol/errors";

describe("requirementProblem (pip: PEP 508)", () => {
  it.each([
    "numpy",
    "numpy>=1.26",
    "pandas[excel]==2.*",
    'requests ; python_version<"3.12"',
    "pkg @ https://example.com/dist/x-1.0-py3-none-any.whl",
    'pkg @ https://example.com/x.whl ; sys_platform == "linux"',
    "numpy (>=1.0, <2)",
    "rich[jupyter, markdown] ~= 13.7",
    "a.b-c_d===1.0",
    'x ; extra == "test" and (os_name == "nt" or "linux" in sys_platform)',
    'y ; platform_machine not in "arm64 aarch64"',
  ])("accepts %j", (text) => {
    expect(requirementProblem(text, "pip")).toBeUndefined();
  });

  it.each([
    ["--index-url http://x", /package name/],
    ["-e .", /package name/],
    ["-r req.txt", /package name/],
    ["--extra-index-url=http://x", /package name/],
    ["", /empty/],
    ["   ", /empty/],
    ["numpy\n--index-url http://x", /line break/],
    ["numpy\u0000", /control character/],
    ["numpy>=", /version/],
    ["numpy extra-words", /version, an @ URL or a ; marker/],
    ["numpy ; bogus == '1'", /marker variable/],
    ["pkg @ not-a-url", /URL/],
    ["numpy[excel", /"\]"/],
  ])("rejects %j", (text, reason) => {
    expect(requirementProblem(text, "pip")).toMatch(reason);
  });
});

describe("requirementProblem (conda match specs)", () => {
  it.each([
    "numpy",
    "numpy >=1.26",
    "numpy >=1.26,<2",
    "numpy >=1.2, <2, !=1.5",
    "conda-forge::numpy=1.26",
    "conda-forge/linux-64::numpy",
    "https://conda.anaconda.org/conda-forge::numpy",
    "python=3.11",
    "python 3.12.*",
    "numpy=1.26=py311*",
    "numpy 1.26 py311_0",
    "numpy[version='>=1.26']",
    "r-base",
  ])("accepts %j", (text) => {
    expect(requirementProblem(text, "conda")).toBeUndefined();
  });

  it.each([
    ["-c defaults", /package name/],
    ["--override-channels", /package name/],
    ["numpy --offline", /not a version or build/],
    ["numpy 1 2 3", /at most a version and a build/],
    ["-bad::numpy", /channel/],
    ["", /empty/],
    ["numpy\npython", /line break/],
  ])("rejects %j", (text, reason) => {
    expect(requirementProblem(text, "conda")).toMatch(reason);
  });
});

describe("checkRequirements", () => {
  it("passes a list of valid requirements", () => {
    expect(() => checkRequirements(["numpy>=1.26", "pandas"], "pip", "the test list")).not.toThrow();
  });

  it("throws ENV_FAILED naming the offending string and where it came from, and says options are refused", () => {
    let error: unknown;
    try {
      checkRequirements(["numpy", "--index-url http://example.invalid"], "pip", 'notebook metadata "uv.dependencies"');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RuntimedError);
    expect(error).toMatchObject({ code: "ENV_FAILED" });
    const message = (error as Error).message;
    expect(message).toContain('"--index-url http://example.invalid"');
    expect(message).toContain('notebook metadata "uv.dependencies"');
    expect(message).toContain("installer options are not accepted");
  });

  it("shows a newline in the offending string escaped, so the message stays one line", () => {
    expect(() => checkRequirements(["numpy\n-e ."], "pip", "x")).toThrow(expect.objectContaining({ message: expect.stringContaining('"numpy\\n-e ."') }));
  });
});

describe("checkChannels and checkPythonVersion", () => {
  it("accept channel names, channel URLs and Python version requests", () => {
    expect(() => checkChannels(["conda-forge", "https://conda.anaconda.org/bioconda"], "x")).not.toThrow();
    for (const python of ["3.11", ">=3.10", ">=3.10,<3.13", "==3.12.*"]) expect(() => checkPythonVersion(python, "x")).not.toThrow();
  });

  it("reject anything that starts like an option", () => {
    expect(() => checkChannels(["--insecure"], "metadata")).toThrow(expect.objectContaining({ code: "ENV_FAILED" }));
    expect(() => checkPythonVersion("--system", "metadata")).toThrow(expect.objectContaining({ code: "ENV_FAILED" }));
    expect(() => checkPythonVersion("3.11 --x", "metadata")).toThrow(expect.objectContaining({ code: "ENV_FAILED" }));
  });
});
