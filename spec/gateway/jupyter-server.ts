/**
 * A real `jupyter_server` for the gateway specs: Debian's python3-jupyter-server on a free
 * loopback port with a random token, isolated from the user's Jupyter config, stopped (with
 * every kernel it started) by `stop()` even when a test failed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../free-port";

/** The interpreter that has jupyter_server and ipykernel (the pyenv `python3` on PATH has neither). */
export const SERVER_PYTHON = process.env.RUNTIMED_TEST_JUPYTER_PYTHON ?? "/usr/bin/python3";

/** A running jupyter_server. */
export interface JupyterServer {
  /** `http://127.0.0.1:<port>` (https with `tls`) */
  url: string;
  token: string;
  port: number;
  /** The server process's pid (the parent of every kernel it starts). */
  pid: number;
  /** Everything the server printed, for a failing test to show. */
  output(): string;
  /** Stops the server and every kernel it started; safe to call twice. */
  stop(): Promise<void>;
}

/** What to change from the defaults. */
export interface JupyterServerOptions {
  /** `--ServerApp.<name>=<value>` flags. */
  serverApp?: Record<string, string | number | boolean>;
  /** Use this port (a restarted server on the same URL); default a free one. */
  port?: number;
  /** Use this token; default a random one. */
  token?: string;
  /** Serve https with this certificate and key (a self-signed one, say). */
  tls?: { certFile: string; keyFile: string };
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    const candidate = Number(entry);
    if (!Number.isInteger(candidate)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${candidate}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(candidate);
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function answers(url: string, token: string): Promise<boolean> {
  const get = url.startsWith("https:") ? https.get : http.get;
  return new Promise((resolve) => {
    const options = { headers: { Authorization: `token ${token}` }, timeout: 2000, rejectUnauthorized: false };
    const request = get(`${url}/api/status`, options, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("error", () => resolve(false));
    request.on("timeout", () => request.destroy());
  });
}

/**
 * Starts `python3 -m jupyter_server` and resolves once it answers `/api/status`. Its Jupyter
 * dirs, HOME and IPython dir are temp dirs of its own, removed by `stop()`.
 */
export async function startJupyterServer(options: JupyterServerOptions = {}): Promise<JupyterServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "runtimed-jupyter-server-"));
  const dirs = { runtime: "runtime", data: "data", config: "config", home: "home", ipython: "ipython", notebooks: "notebooks" };
  for (const dir of Object.values(dirs)) fs.mkdirSync(path.join(root, dir), { recursive: true });
  const token = options.token ?? randomBytes(16).toString("hex");
  const port = options.port ?? (await freePort());
  const flags = Object.entries({ ...options.serverApp }).map(([name, value]) => `--ServerApp.${name}=${String(value)}`);
  const child: ChildProcess = spawn(
    SERVER_PYTHON,
    [
      "-m",
      "jupyter_server",
      "--allow-root",
      "--no-browser",
      `--ServerApp.token=${token}`,
      `--port=${port}`,
      "--port-retries=0",
      "--ip=127.0.0.1",
      `--ServerApp.root_dir=${path.join(root, dirs.notebooks)}`,
      ...(options.tls ? [`--certfile=${options.tls.certFile}`, `--keyfile=${options.tls.keyFile}`] : []),
      ...flags,
    ],
    {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        LANG: "C.UTF-8",
        HOME: path.join(root, dirs.home),
        JUPYTER_RUNTIME_DIR: path.join(root, dirs.runtime),
        JUPYTER_DATA_DIR: path.join(root, dirs.data),
        JUPYTER_CONFIG_DIR: path.join(root, dirs.config),
        JUPYTER_PLATFORM_DIRS: "0",
        IPYTHONDIR: path.join(root, dirs.ipython),
        PYDEVD_DISABLE_FILE_VALIDATION: "1",
        PYTHONUNBUFFERED: "1",
      },
    },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Kernels run in sessions of their own: remember them before the server goes.
      const kernels = alive(pid) ? childrenOf(pid) : [];
      if (alive(pid)) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
        clearTimeout(timer);
      }
      for (const target of [-pid, ...kernels]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // already gone
        }
      }
      fs.rmSync(root, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + 60_000;
  while (!(await answers(url, token))) {
    if (!alive(pid) || Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter_server did not start on ${url}:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, token, port, pid, output: () => output, stop };
}
