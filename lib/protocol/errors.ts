/** Machine-readable reasons a runtimed operation failed. */
export type RuntimedErrorCode =
  | "NOT_CONNECTED"
  | "CELL_NOT_FOUND"
  | "TIMEOUT"
  | "KERNEL_DIED"
  | "KERNEL_NOT_RUNNING"
  | "KERNEL_FAILED"
  | "DAEMON_UNAVAILABLE"
  | "DAEMON_RUNNING"
  | "DAEMON_STOPPED"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "PROTOCOL"
  | "BAD_REQUEST"
  | "ENV_FAILED"
  | "CANCELLED"
  | "CLOSED"
  | "STORAGE_FAILED"
  | "INTERNAL";

/** The one error class of runtimed: a `code` to branch on and a message a person can act on. */
export class RuntimedError extends Error {
  override readonly name = "RuntimedError";

  constructor(
    readonly code: RuntimedErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The shape an error takes on the wire. */
  toWire(): { code: RuntimedErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  /** Rebuilds an error that crossed the wire; unknown shapes become `PROTOCOL` errors. */
  static fromWire(value: unknown): RuntimedError {
    if (typeof value === "object" && value !== null) {
      const { code, message } = value as { code?: unknown; message?: unknown };
      if (typeof code === "string" && typeof message === "string") {
        return new RuntimedError(code as RuntimedErrorCode, message);
      }
    }
    return new RuntimedError("PROTOCOL", `Malformed error from the daemon: ${JSON.stringify(value)}`);
  }
}

/** Wraps anything thrown into a RuntimedError, keeping RuntimedErrors as they are. */
export function toRuntimedError(error: unknown, code: RuntimedErrorCode = "INTERNAL"): RuntimedError {
  if (error instanceof RuntimedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RuntimedError(code, message, { cause: error });
}
