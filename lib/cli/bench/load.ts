/**
 * The load loop of `dflockd-rx bench`: W workers, each acquiring and releasing one of K keys in
 * turn until a time or a count runs out, timing both halves of every cycle.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import type { DflockdClient } from '../../client.js';
import { DistributedLock } from '../../facade/distributed-lock.js';
import type { ProgressSink } from './progress.js';
import { LatencySample, type LatencySummary } from './stats.js';

/** What one run does. */
export interface LoadPlan {
  readonly workers: number;
  readonly keys: number;
  /** Keys are `${prefix}0` … `${prefix}${keys - 1}`. */
  readonly prefix: string;
  /** Stop after this many cycles in all… */
  readonly count: number | undefined;
  /** …or after this many seconds. */
  readonly seconds: number | undefined;
  readonly leaseTtlS: number | undefined;
  readonly acquireTimeoutS: number;
}

/** What a run measured. */
export interface LoadResult {
  /** Completed acquire/release cycles. */
  readonly cycles: number;
  /** Acquisitions that timed out (`--timeout`): counted, not failures. */
  readonly timeouts: number;
  readonly elapsedS: number;
  readonly cyclesPerS: number;
  readonly acquire: LatencySummary;
  readonly release: LatencySummary;
  readonly cycle: LatencySummary;
  /** The first failure that stopped the run (a connection error, a refusal), if any. */
  readonly error: unknown;
}

/** Percentiles are taken over at most this many cycles (8 bytes each per sample) in a timed run. */
const TIMED_SAMPLE_CAPACITY = 1_000_000;

/**
 * Runs the load and resolves with what it measured. The first error other than a timeout stops
 * every worker (a server that is down would otherwise be hammered in a tight loop); the
 * result then carries it.
 *
 * @example
 * ```ts
 * const result = await runLoad(client, { workers: 4, keys: 4, prefix: 'bench-', count: 1000, seconds: undefined, leaseTtlS: undefined, acquireTimeoutS: 10 }, silentProgress);
 * ```
 */
export async function runLoad(client: DflockdClient, plan: LoadPlan, progress: ProgressSink): Promise<LoadResult> {
  const capacity = plan.count ?? TIMED_SAMPLE_CAPACITY;
  const acquire = new LatencySample(capacity);
  const release = new LatencySample(capacity);
  const cycle = new LatencySample(capacity);
  const lockOptions = { client, acquireTimeoutS: plan.acquireTimeoutS, ...(plan.leaseTtlS === undefined ? {} : { leaseTtlS: plan.leaseTtlS }) };
  const started = performance.now();
  const deadline = plan.seconds === undefined ? Infinity : started + plan.seconds * 1000;
  let issued = 0;
  let cycles = 0;
  let timeouts = 0;
  let error: unknown;
  let lastProgressAt = started;

  progress.plan(1);
  progress.step(`acquire/release on ${plan.keys} key(s), ${plan.workers} worker(s)`, plan.count ?? plan.seconds! * 1000);
  const more = (): boolean => error === undefined && (plan.count === undefined ? performance.now() < deadline : issued < plan.count);

  const worker = async (): Promise<void> => {
    while (more()) {
      const key = `${plan.prefix}${issued++ % plan.keys}`;
      const lock = new DistributedLock(key, lockOptions);
      const t0 = performance.now();
      try {
        if (!(await lock.acquire())) {
          timeouts++;
          continue;
        }
        const t1 = performance.now();
        await lock.release();
        const t2 = performance.now();
        acquire.record(t1 - t0);
        release.record(t2 - t1);
        cycle.record(t2 - t0);
        cycles++;
        if (plan.count !== undefined) progress.advance(1);
        else {
          progress.advance(t2 - lastProgressAt);
          lastProgressAt = t2;
        }
      } catch (e) {
        error ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.workers }, worker));
  progress.finish();
  const elapsedS = (performance.now() - started) / 1000;
  return {
    cycles,
    timeouts,
    elapsedS,
    cyclesPerS: elapsedS > 0 ? cycles / elapsedS : 0,
    acquire: acquire.summary(),
    release: release.summary(),
    cycle: cycle.summary(),
    error,
  };
}

/**
 * The human summary: throughput, then p50/p90/p99/max of each half of the cycle.
 *
 * @example
 * ```ts
 * process.stdout.write(formatLoad(result, plan, ['127.0.0.1:6388']));
 * ```
 */
export function formatLoad(result: LoadResult, plan: LoadPlan, servers: readonly string[]): string {
  const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`.padStart(10);
  const row = (name: string, s: LatencySummary): string => `  ${name.padEnd(8)}${ms(s.p50Ms)}${ms(s.p90Ms)}${ms(s.p99Ms)}${ms(s.maxMs)}`;
  return [
    `${result.cycles} acquire/release cycles in ${result.elapsedS.toFixed(1)} s against ${servers.join(', ')} (${plan.workers} workers, ${plan.keys} keys)`,
    `throughput: ${result.cyclesPerS.toFixed(0)} cycles/s${result.timeouts > 0 ? `; ${result.timeouts} acquisitions timed out (--timeout ${plan.acquireTimeoutS})` : ''}`,
    `  ${''.padEnd(8)}${'p50'.padStart(10)}${'p90'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}`,
    row('acquire', result.acquire),
    row('release', result.release),
    row('cycle', result.cycle),
    '',
  ].join('\n');
}
