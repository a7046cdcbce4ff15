import type { Observable } from "rxjs";

/** The value a replayed state observable (a Session's `kernelStatus$`, `queueState$`) holds now. */
export function currentValue<T>(state$: Observable<T>): T | undefined {
  let value: T | undefined;
  state$.subscribe((next) => (value = next)).unsubscribe();
  return value;
}
