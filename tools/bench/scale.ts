/**
 * Scenario (c): N leases held at once with background renewal for T seconds — heap and RSS
 * per lease, CPU of the client process while it only renews, and how the renewals are spread.
 *
 * @module
 */

import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { Subscription } from 'rxjs';
import { DflockdClient } from '../../lib/client.js';
import type { ClientOptions } from '../../lib/options.js';
import type { LockEvent } from '../../lib/lease/events.js';
import type { ProgressSink } from '../../lib/cli/bench/progress.js';
import type { GcAccess, ScaleResult } from './report.js';
import { LatencySample, LatencySummary } from '../../lib/cli/bench/stats.js';
import { BucketHistogram } from './figures.js';
import { withTimeout } from './trial.js';

/** A full garbage collection, if this process can trigger one. */
export interface Collector {
  readonly access: GcAccess;
  /** Collects (twice, to also free what finalizers released); a no-op when unavailable. */
  collect(): Promise<void>;
}

/** `global.gc` under `node --expose-gc`; otherwise the flag set at runtime; otherwise nothing. */
export function collector(): Collector {
  let gc = (globalThis as { gc?: () => void }).gc;
  let access: GcAccess = 'exposed';
  if (typeof gc !== 'function') {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
      access = 'enabled-at-runtime';
    } catch {
      gc = undefined;
    }
  }
  if (typeof gc !== 'function') return { access: 'unavailable', collect: () => Promise.resolve() };
  const run = gc;
  return {
    access,
    async collect() {
      run();
      await new Promise<void>((resolve) => setImmediate(resolve));
      run();
    },
  };
}

/** Parameters of one (c) run. */
export interface ScaleParams {
  readonly clientOptions: ClientOptions;
  readonly keyPrefix: string;
  readonly leases: number;
  readonly leaseTtlS: number;
  readonly holdS: number;
  readonly timeoutMs: number;
  readonly includesServer: boolean;
  readonly gc: Collector;
  readonly progress: ProgressSink;
}

const BUCKET_MS = 100;

/** Holds `leases` leases for `holdS` seconds and measures what that costs. */
export async function runScale(params: ScaleParams): Promise<ScaleResult> {
  const n = params.leases;
  // Everything the bench itself keeps per lease is allocated before the "before" snapshot.
  const keys = Array.from({ length: n }, (_, i) => `${params.keyPrefix}-${i}`);
  const indexOf = new Map(keys.map((key, i) => [key, i]));
  const lastExpiresAt = new Float64Array(n);
  const subscriptions: (Subscription | undefined)[] = new Array<Subscription | undefined>(n).fill(undefined);
  // Generous: a lease renews about once per 9 s (the heartbeat cap), more often when short.
  const capacity = Math.ceil(n * (params.holdS / Math.min(params.leaseTtlS * 0.25, 1) + 2));
  const renewExpiresAt = new Float64Array(capacity);
  const renewReceivedAt = new Float64Array(capacity);
  let acquired = 0;
  let errors = 0;
  let lost = 0;
  let recording = false;
  let recorded = 0;
  let intervalSum = 0;
  let intervalCount = 0;
  let allAcquired: () => void = () => undefined;
  const acquiring = new Promise<void>((resolve) => (allAcquired = resolve));
  const settled = (): void => {
    if (acquired + errors === n) allAcquired();
  };
  // `expiresAt` is the request's *send* time plus a constant (the claim minus its margin, the
  // same for every lease here), so differences of expiresAt are exact renewal intervals, and
  // expiresAt − constant is when each renewal was sent: that, not when its reply came back
  // (spread by the server's queue), shows whether the client bunches its renewals.
  const observer = {
    next: (event: LockEvent): void => {
      const now = performance.now();
      const i = indexOf.get(event.key)!;
      switch (event.type) {
        case 'acquired':
          acquired++;
          lastExpiresAt[i] = event.expiresAt;
          params.progress.advance();
          settled();
          return;
        case 'renewed':
          intervalSum += event.expiresAt - lastExpiresAt[i]!;
          intervalCount++;
          lastExpiresAt[i] = event.expiresAt;
          if (recording && recorded < capacity) {
            renewExpiresAt[recorded] = event.expiresAt;
            renewReceivedAt[recorded++] = now;
          }
          return;
        case 'lost':
          lost++;
          return;
        default:
          return;
      }
    },
    error: (): void => {
      errors++;
      settled();
    },
  };

  await params.gc.collect();
  const before = process.memoryUsage();
  const client = new DflockdClient(params.clientOptions);
  try {
    params.progress.step(`(c) N=${n}: acquiring`, n);
    const acquireStart = performance.now();
    const lockOptions = { acquireTimeoutS: Math.max(10, Math.ceil(params.timeoutMs / 1000)), leaseTtlS: params.leaseTtlS };
    for (let i = 0; i < n; i++) subscriptions[i] = client.lock(keys[i]!, lockOptions).subscribe(observer);
    await withTimeout(acquiring, params.timeoutMs, `(c) acquiring ${n} leases`);
    const acquireMs = performance.now() - acquireStart;
    if (errors > 0) throw new Error(`(c) ${errors} of ${n} acquisitions failed (server max-locks too low?)`);

    await params.gc.collect();
    const held = process.memoryUsage();

    params.progress.step(`(c) N=${n}: holding ${params.holdS} s`, params.holdS * 10);
    intervalSum = 0;
    intervalCount = 0;
    recording = true;
    const windowStart = performance.now();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const ticks = Math.ceil(params.holdS * 10);
    for (let t = 0; t < ticks; t++) {
      await new Promise<void>((resolve) => setTimeout(resolve, Math.min(BUCKET_MS, params.holdS * 1000 - t * BUCKET_MS)));
      params.progress.advance();
    }
    const windowEnd = performance.now();
    const wallMs = windowEnd - windowStart;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    recording = false;
    const intervalMs = intervalCount > 0 ? intervalSum / intervalCount : Number.NaN;
    const renewals = sendTimes(renewExpiresAt, renewReceivedAt, recorded, windowStart, windowEnd, params.holdS * 1000);

    await params.gc.collect();
    const after = process.memoryUsage();
    return {
      leases: n,
      leaseTtlS: params.leaseTtlS,
      holdS: params.holdS,
      acquireMs,
      heapBytesPerLease: (held.heapUsed - before.heapUsed) / n,
      rssBytesPerLease: (held.rss - before.rss) / n,
      heapGrowthDuringHoldBytes: after.heapUsed - held.heapUsed,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      cpuPerRenewalUs: renewals.count > 0 ? (cpu.user + cpu.system) / renewals.count : Number.NaN,
      steadyCpuPercent: renewals.count > 0 && intervalMs > 0 ? ((cpu.user + cpu.system) / renewals.count) * (n / intervalMs) * 0.1 : Number.NaN,
      eventLoopUtilization: elu.utilization,
      renewals: renewals.count,
      renewIntervalMs: intervalMs,
      renewPeakPer100ms: renewals.peak,
      renewMeanPer100ms: renewals.mean,
      renewPeakToMean: renewals.mean > 0 ? renewals.peak / renewals.mean : Number.NaN,
      renewLatencyP50Ms: renewals.latency.p50Ms,
      renewLatencyP99Ms: renewals.latency.p99Ms,
      lost,
      errors,
      gc: params.gc.access,
      includesServer: params.includesServer,
    };
  } finally {
    for (const subscription of subscriptions) subscription?.unsubscribe();
    await client.close();
  }
}

/**
 * Renewals sent in the window, bucketed by send time, and their latency. expiresAt − received
 * is the constant minus the reply's latency, so its largest value recovers the constant; the
 * fastest reply's latency (well under a millisecond on loopback) is the only error it adds.
 */
function sendTimes(expiresAt: Float64Array, receivedAt: Float64Array, count: number, windowStart: number, windowEnd: number, spanMs: number): { count: number; peak: number; mean: number; latency: LatencySummary } {
  let offset = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) offset = Math.max(offset, expiresAt[i]! - receivedAt[i]!);
  const histogram = new BucketHistogram(BUCKET_MS, spanMs);
  const latency = new LatencySample(count);
  let inWindow = 0;
  for (let i = 0; i < count; i++) {
    const sent = expiresAt[i]! - offset;
    if (sent < windowStart || sent > windowEnd) continue;
    inWindow++;
    histogram.add(sent - windowStart);
    latency.record(receivedAt[i]! - sent);
  }
  return { count: inWindow, peak: histogram.max, mean: inWindow / histogram.length, latency: latency.summary() };
}
