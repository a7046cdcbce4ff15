import type { EnvProgress } from "./backend";

/**
 * Turns one line of pip, uv or conda output into progress, when it says something a person
 * watching would want: which package is being fetched, that installation has begun, that it
 * finished. Other lines give `undefined`.
 *
 * ```ts
 * parseInstallerLine("Collecting numpy>=1.26");  // { phase: "installing", package: "numpy", ... }
 * ```
 */
export function parseInstallerLine(line: string): EnvProgress | undefined {
  const text = line.trim();
  let match: RegExpExecArray | null;
  // pip
  if ((match = /^Collecting ([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(text))) {
    return { phase: "installing", package: match[1], message: text };
  }
  if ((match = /^Downloading ([A-Za-z0-9][A-Za-z0-9._-]*?)-\d[^\s]*\.(?:whl|tar\.gz|zip)/.exec(text))) {
    return { phase: "installing", package: match[1], message: text };
  }
  if ((match = /^Installing collected packages: (.*)$/.exec(text))) {
    return { phase: "installing", message: `Installing ${match[1]}` };
  }
  if (/^Successfully installed /.test(text)) return { phase: "installing", message: text };
  // uv
  if ((match = /^Downloading ([A-Za-z0-9][A-Za-z0-9._-]*) \(/.exec(text))) {
    return { phase: "installing", package: match[1], message: text };
  }
  if ((match = /^\+ ([A-Za-z0-9][A-Za-z0-9._-]*)==/.exec(text))) {
    return { phase: "installing", package: match[1], message: text };
  }
  if (/^(Resolved|Prepared|Installed|Audited) \d+ packages?/.test(text)) return { phase: "installing", message: text };
  // conda / mamba / micromamba
  if (/^(Transaction starting|Preparing transaction|Executing transaction|Linking )/.test(text)) {
    return { phase: "installing", message: text };
  }
  return undefined;
}
