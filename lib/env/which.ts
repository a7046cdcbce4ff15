import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";

/** Every executable named `name` on `PATH`, in PATH order (like `which -a`). */
export async function whichAll(name: string, path = process.env.PATH ?? ""): Promise<string[]> {
  const found: string[] = [];
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if (!found.includes(candidate)) found.push(candidate);
    } catch {
      // Not here.
    }
  }
  return found;
}

/** The first executable named `name` on `PATH`, if any. */
export async function which(name: string, path?: string): Promise<string | undefined> {
  return (await whichAll(name, path))[0];
}
