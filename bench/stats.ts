/** Small statistics over timing samples (milliseconds unless said otherwise). */

/** The value at quantile `q` (0..1) by nearest rank; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median (nearest rank). */
export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/** The 99th percentile (nearest rank). */
export function p99(samples: readonly number[]): number {
  return quantile(samples, 0.99);
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function now(): number {
  return performance.now();
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` and returns how long it took, in ms. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = now();
  await work();
  return now() - started;
}

/**
 * Runs each client's batch in turn for `rounds` rounds, rotating who goes first, so machine
 * noise (another process, a GC, a thermal dip) lands on every client alike.
 */
export async function interleave<K extends string>(
  rounds: number,
  batches: Partial<Record<K, () => Promise<number[]>>>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(batches) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let offset = 0; offset < names.length; offset++) {
      const name = names[(round + offset) % names.length]!;
      samples[name].push(...(await batches[name]!()));
    }
  }
  return samples;
}
