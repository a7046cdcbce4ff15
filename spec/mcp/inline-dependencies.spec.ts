import { addPackages, checkPackages, findDependencies, packageName, removePackages, writeDependencies } from "../../lib/mcp/inline-dependencies";
import { RuntimedError } from "../../lib";

describe("inline dependencies", () => {
  it("a notebook without any gets an empty uv list in its nbformat metadata at runt.uv", () => {
    const declaration = findDependencies({});
    expect(declaration).toMatchObject({ manager: "uv", dependencies: [], key: "notebook_metadata", path: ["runt", "uv"], source: "notebook_metadata.runt.uv" });
    const write = writeDependencies({}, declaration, ["numpy"]);
    expect(write.key).toBe("notebook_metadata");
    expect(JSON.parse(write.value)).toEqual({ runt: { uv: { dependencies: ["numpy"] } } });
  });

  it("finds lists where environment detection does, in its order, and writes back there keeping other fields", () => {
    const notebookMetadata = JSON.stringify({ kernelspec: { name: "python3" }, runt: { uv: { dependencies: ["pandas"], "requires-python": ">=3.10" } } });
    const fromNotebook = findDependencies({ notebook_metadata: notebookMetadata });
    expect(fromNotebook).toMatchObject({ dependencies: ["pandas"], source: "notebook_metadata.runt.uv" });
    const written = JSON.parse(writeDependencies({ notebook_metadata: notebookMetadata }, fromNotebook, ["pandas", "numpy"]).value);
    expect(written).toEqual({ kernelspec: { name: "python3" }, runt: { uv: { dependencies: ["pandas", "numpy"], "requires-python": ">=3.10" } } });

    // The room's own `uv` key comes first; an empty declaration is passed over.
    expect(findDependencies({ uv: '{"dependencies": ["polars"]}', notebook_metadata: notebookMetadata })).toMatchObject({ dependencies: ["polars"], key: "uv", path: [] });
    expect(findDependencies({ uv: '{"dependencies": []}', notebook_metadata: notebookMetadata })).toMatchObject({ dependencies: ["pandas"] });
    expect(findDependencies({ notebook_metadata: JSON.stringify({ conda: { dependencies: ["scipy"] } }) })).toMatchObject({ manager: "conda", source: "notebook_metadata.conda" });
  });

  it("malformed metadata is a BAD_REQUEST naming where", () => {
    expect(() => findDependencies({ uv: "{not json" })).toThrow(RuntimedError);
    expect(() => findDependencies({ notebook_metadata: JSON.stringify({ runt: { uv: { dependencies: "numpy" } } }) })).toThrow('Notebook metadata "notebook_metadata.runt.uv" must be an object like {"dependencies": ["numpy"]}');
  });

  it("matches packages by normalized name, whatever their version spec", () => {
    expect(packageName("Pandas>=2.0")).toBe("pandas");
    expect(packageName("scikit_learn[all]==1.5")).toBe("scikit-learn");
    expect(packageName("conda-forge::NumPy=1.26")).toBe("numpy");
    expect(addPackages(["numpy", "pandas>=2"], ["Pandas<3", "scipy"])).toEqual(["numpy", "Pandas<3", "scipy"]);
    expect(removePackages(["numpy", "pandas>=2"], ["PANDAS", "torch"])).toEqual({ dependencies: ["numpy"], notFound: ["torch"] });
  });

  it("refuses empty and multi-line package specs", () => {
    expect(checkPackages([" numpy "])).toEqual(["numpy"]);
    expect(() => checkPackages([""])).toThrow("Give each package as one requirement");
    expect(() => checkPackages(["numpy\npandas"])).toThrow(RuntimedError);
    expect(() => checkPackages([])).toThrow(RuntimedError);
  });
});
