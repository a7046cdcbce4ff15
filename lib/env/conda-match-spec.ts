/**
 * A checker for conda match specs as environment.yml, pixi and inline conda metadata write
 * them: `numpy`, `numpy >=1.26`, `numpy=1.26=py311*`, `conda-forge::numpy=1.26`,
 * `numpy[version='>=1.26']`. Like the PEP 508 checker it leaves the meaning to the solver and
 * guarantees the shape: a spec starts with a channel or a package name, never with `-`.
 */

const CHANNEL = /^[A-Za-z0-9_][A-Za-z0-9_.+~%@:/-]*$/;
const NAME = /^[A-Za-z0-9_*][A-Za-z0-9_.*-]*/;
/** Version and build strings: `>=1.26,<2`, `1.26.*`, `=1.26=py311*`, `1.2|1.3`. */
const VERSION_AND_BUILD = /^[A-Za-z0-9_.*+!=<>~,|()$-]+$/;
const BRACKET = /\[\s*[a-z_]+\s*=\s*(?:"[^"]*"|'[^']*'|[^,\]"'\s]+)\s*(?:,\s*[a-z_]+\s*=\s*(?:"[^"]*"|'[^']*'|[^,\]"'\s]+)\s*)*\]$/;

/**
 * Why `text` is not a conda match spec, or `undefined` when it is one.
 *
 * ```ts
 * condaSpecProblem("conda-forge::numpy=1.26"); // undefined
 * condaSpecProblem("-c defaults");             // 'expected a package name at "-c defaults"'
 * ```
 */
export function condaSpecProblem(text: string): string | undefined {
  let rest = text.trim();
  const bracket = BRACKET.exec(rest);
  if (bracket) rest = rest.slice(0, bracket.index).trimEnd();
  const separator = rest.lastIndexOf("::");
  if (separator >= 0) {
    const channel = rest.slice(0, separator);
    if (!CHANNEL.test(channel)) return `expected a channel before "::", found "${channel}"`;
    rest = rest.slice(separator + 2);
  }
  const name = NAME.exec(rest)?.[0];
  if (name === undefined) return `expected a package name at "${rest}"`;
  // What follows the name: `>=1.26`, `=1.26=build`, or ` 1.26 build` (space-separated).
  // Spaces around "," and "|" join constraints (`>=1.2, <2`); others separate version from build.
  const constraints = rest.slice(name.length).trim().replace(/\s*([,|])\s*/g, "$1");
  const tokens = constraints.split(/\s+/).filter((token) => token !== "");
  if (tokens.length > 2) return `expected at most a version and a build after "${name}", found "${tokens.join(" ")}"`;
  const bad = tokens.find((token) => token.startsWith("-") || !VERSION_AND_BUILD.test(token));
  if (bad !== undefined) return `"${bad}" is not a version or build string`;
  return undefined;
}
