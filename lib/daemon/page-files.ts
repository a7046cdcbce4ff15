/**
 * The web page's static files (index.html and its assets), served from one directory at `/`.
 * Only regular files inside that directory are ever served: no listings, no dotfiles, no `..`,
 * no symlink that leads out.
 */
import * as fs from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";

// The few types a built page uses; anything else is served as bytes the browser will not sniff.
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

/**
 * Where the built page lives: `dist/page/` beside the compiled daemon (`dist/daemon/`), or the
 * checkout's `dist/page/` when the daemon runs from its TypeScript sources.
 */
export function defaultPageDir(): string {
  const compiled = path.basename(path.dirname(__dirname)) === "dist";
  return compiled ? path.join(__dirname, "..", "page") : path.join(__dirname, "..", "..", "dist", "page");
}

/** A file of the page, found and checked, ready to send. */
interface PageFile {
  file: string;
  size: number;
  contentType: string;
  /** index.html is never cached (it names the assets of this build); assets are revalidated. */
  cacheControl: string;
}

/** Serves the files of one directory as the page. */
export class PageFiles {
  constructor(readonly directory: string) {}

  /** The file for a URL path (`/` is index.html), or undefined when there is none to serve. */
  async find(pathname: string): Promise<PageFile | undefined> {
    const segments = safeSegments(pathname);
    if (!segments) return undefined;
    const relative = segments.length === 0 ? ["index.html"] : segments;
    try {
      const root = await fs.promises.realpath(this.directory);
      const file = await fs.promises.realpath(path.join(root, ...relative));
      if (!file.startsWith(root + path.sep)) return undefined;
      const stat = await fs.promises.stat(file);
      if (!stat.isFile()) return undefined;
      const extension = path.extname(file).toLowerCase();
      return {
        file,
        size: stat.size,
        contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
        cacheControl: extension === ".html" ? "no-store" : "no-cache",
      };
    } catch {
      return undefined;
    }
  }

  /** Sends a found file (headers only for HEAD). */
  send(found: PageFile, request: http.IncomingMessage, response: http.ServerResponse): void {
    response.statusCode = 200;
    response.setHeader("content-type", found.contentType);
    response.setHeader("content-length", found.size);
    response.setHeader("cache-control", found.cacheControl);
    // The page may frame itself, no other site may frame it (clickjacking a Run button).
    response.setHeader("content-security-policy", "frame-ancestors 'self'");
    if (request.method === "HEAD") return void response.end();
    const stream = fs.createReadStream(found.file);
    stream.on("error", () => response.destroy());
    response.on("close", () => stream.destroy());
    stream.pipe(response);
  }
}

/**
 * The path's segments, percent-decoded, or undefined when it is not a plain path to a file:
 * empty segments (`//`), `.` and `..`, dotfiles, NUL, backslashes and bad escapes are refused
 * rather than normalised, so no spelling of a path can reach outside the directory.
 */
function safeSegments(pathname: string): string[] | undefined {
  if (!pathname.startsWith("/")) return undefined;
  if (pathname === "/") return [];
  const segments: string[] = [];
  for (const raw of pathname.slice(1).split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (!segment || segment.startsWith(".") || /[\\/\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments;
}
