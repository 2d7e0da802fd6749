/**
 * Latency figures for `dflockd-rx bench` (and the harness in tools/bench): a preallocated
 * sample and nearest-rank percentiles. Nothing here allocates per recorded operation.
 *
 * @module
 */

/** Summary of one latency sample, in milliseconds. */
export interface LatencySummary {
  /** Number of recorded values. */
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/**
 * A fixed-capacity sample of latencies (ms). Recording is a typed-array store, so a hot loop
 * measuring itself does not feed the garbage collector.
 *
 * @example
 * ```ts
 * const s = new LatencySample(1000);
 * s.record(0.25);
 * s.summary().p50Ms; // 0.25
 * ```
 */
export class LatencySample {
  private readonly values: Float64Array;
  private size = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(Math.max(1, capacity));
  }

  /** Values recorded so far. */
  get count(): number {
    return this.size;
  }

  /** Records one value; values beyond the capacity are dropped (the loops are bounded, so never in practice). */
  record(ms: number): void {
    if (this.size < this.values.length) this.values[this.size++] = ms;
  }

  /** Percentiles of what was recorded (zeros for an empty sample). */
  summary(): LatencySummary {
    const n = this.size;
    if (n === 0) return { count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
    const sorted = this.values.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    return {
      count: n,
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[n - 1]!,
      meanMs: sum / n,
    };
  }
}

/** The `p`-th percentile (nearest rank) of an ascending array; 0 when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]!;
}
