import { RuntimedError } from "../protocol/errors";
import { condaSpecProblem } from "./conda-match-spec";
import { pep508Problem } from "./pep508";

/** The syntax a dependency list is written in: pip/uv requirements, or conda match specs. */
export type RequirementSyntax = "pip" | "conda";

/**
 * Why `text` is not a requirement of `syntax`, or `undefined` when it is one. Strings with line
 * breaks or other control characters are never one: an installer could read them as two lines.
 */
export function requirementProblem(text: string, syntax: RequirementSyntax): string | undefined {
  if (text.trim() === "") return "it is empty";
  if (/[\u0000-\u001f\u007f]/.test(text)) return "it contains a line break or another control character";
  return syntax === "pip" ? pep508Problem(text) : condaSpecProblem(text);
}

/**
 * Checks dependencies from a notebook or a project file before any installer sees them, so that
 * a string such as `--index-url http://…` can never become an installer option. Throws
 * ENV_FAILED naming the offending string and `where` it came from (a metadata key, a file and
 * table or line).
 *
 * ```ts
 * checkRequirements(["numpy>=1.26"], "pip", 'notebook metadata "uv.dependencies"'); // fine
 * checkRequirements(["-e ."], "pip", "/repo/pyproject.toml [project] dependencies");  // throws
 * ```
 */
export function checkRequirements(requirements: readonly string[], syntax: RequirementSyntax, where: string): void {
  for (const requirement of requirements) {
    const problem = requirementProblem(requirement, syntax);
    if (problem === undefined) continue;
    const kind = syntax === "pip" ? "a PEP 508 requirement such as numpy>=1.26" : "a conda match spec such as numpy>=1.26";
    const options = requirement.trimStart().startsWith("-") ? "; installer options are not accepted in dependency lists" : "";
    throw new RuntimedError("ENV_FAILED", `${JSON.stringify(requirement)} in ${where} is not ${kind} (${problem})${options}`);
  }
}

/** Checks conda channel names or URLs (`conda-forge`, `https://host/channel`) the same way. */
export function checkChannels(channels: readonly string[], where: string): void {
  for (const channel of channels) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.+~%@:/-]*$/.test(channel)) {
      throw new RuntimedError("ENV_FAILED", `${JSON.stringify(channel)} in ${where} is not a conda channel name or URL`);
    }
  }
}

/** Checks a Python version request (`3.11`, `>=3.10,<3.13`) as uv and conda take it. */
export function checkPythonVersion(python: string, where: string): void {
  if (!/^\s*[0-9<>=!~]/.test(python) || !/^[0-9<>=!~.,*\s]+$/.test(python)) {
    throw new RuntimedError("ENV_FAILED", `${JSON.stringify(python)} in ${where} is not a Python version such as 3.11 or >=3.10`);
  }
}
