/**
 * The harness's own figures: medians over trials, ratios to the baseline, and a histogram of
 * renewal times. (Latency samples and percentiles are the CLI's, lib/cli/bench/stats.ts.)
 *
 * @module
 */

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
