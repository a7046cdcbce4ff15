/**
 * Checks that something fails with a `RuntimedError` of a given code, and hands the error back
 * so the test can look at its message. No daemon in here: unit specs import it too.
 */
import { RuntimedError } from "../lib/protocol/errors";

/** Awaits `promise` and checks that it rejects with a RuntimedError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<RuntimedError> {
  try {
    await promise;
  } catch (error) {
    return expectRuntimedError(error, code);
  }
  throw new Error(`expected a ${code} error`);
}

/** Calls `run` and checks that it throws a RuntimedError of `code`. */
export function expectThrownCode(run: () => unknown, code: string): RuntimedError {
  try {
    run();
  } catch (error) {
    return expectRuntimedError(error, code);
  }
  throw new Error(`expected a ${code} error`);
}

function expectRuntimedError(error: unknown, code: string): RuntimedError {
  expect(error).toBeInstanceOf(RuntimedError);
  expect((error as RuntimedError).code).toBe(code);
  return error as RuntimedError;
}
