/**
 * Small numeric helpers for the benchmark: a preallocated latency sample, percentiles,
 * medians and ratios. Nothing here allocates per recorded operation.
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

/** The median of some numbers (mean of the middle two for an even count); 0 when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `value / reference`, or NaN when the reference is not a positive number (reported as "n/a"). */
export function ratio(value: number, reference: number): number {
  return reference > 0 && Number.isFinite(reference) && Number.isFinite(value) ? value / reference : Number.NaN;
}

/** Counts of events per fixed-width time bucket, for "are the renewals spread?". */
export class BucketHistogram {
  private readonly counts: Uint32Array;

  /**
   * @param bucketMs width of one bucket
   * @param spanMs the window covered; events outside it are ignored
   */
  constructor(
    readonly bucketMs: number,
    spanMs: number,
  ) {
    this.counts = new Uint32Array(Math.max(1, Math.ceil(spanMs / bucketMs)));
  }

  /** Counts one event at `offsetMs` from the start of the window. */
  add(offsetMs: number): void {
    const i = Math.floor(offsetMs / this.bucketMs);
    if (i >= 0 && i < this.counts.length) this.counts[i]!++;
  }

  /** Total events counted. */
  get total(): number {
    let sum = 0;
    for (const c of this.counts) sum += c;
    return sum;
  }

  /** The fullest bucket. */
  get max(): number {
    let max = 0;
    for (const c of this.counts) if (c > max) max = c;
    return max;
  }

  /** Buckets with at least one event. */
  get busyBuckets(): number {
    let busy = 0;
    for (const c of this.counts) if (c > 0) busy++;
    return busy;
  }

  /** Number of buckets in the window. */
  get length(): number {
    return this.counts.length;
  }
}
