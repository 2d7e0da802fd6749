/**
 * Scenario (c): N leases held at once with background renewal for T seconds — heap and RSS
 * per lease, CPU of the client process while it only renews, and how the renewals are spread.
 *
 * @module
 */

import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { Subscription } from 'rxjs';
import { DflockdClient } from '../../client.js';
import { deadlineMargin } from '../../lease/lease-machine.js';
import type { ClientOptions } from '../../options.js';
import type { LockEvent } from '../../lease/events.js';
import type { ProgressSink } from './progress.js';
import type { GcAccess, ScaleResult } from './report.js';
import { BucketHistogram, LatencySample } from './stats.js';
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
  const lastEventAt = new Float64Array(n);
  const subscriptions: (Subscription | undefined)[] = new Array<Subscription | undefined>(n).fill(undefined);
  const renewHistogram = new BucketHistogram(BUCKET_MS, params.holdS * 1000);
  // Generous: a lease renews about once per 9 s (the heartbeat cap); a few more in short leases.
  const renewLatency = new LatencySample(Math.ceil(n * (params.holdS / Math.min(params.leaseTtlS * 0.25, 1) + 2)));
  let acquired = 0;
  let errors = 0;
  let lost = 0;
  let renewals = 0;
  let intervalSum = 0;
  let intervalCount = 0;
  let windowStart = -1;
  let acquireStart = 0;
  let allAcquired: () => void = () => undefined;
  const acquiring = new Promise<void>((resolve) => (allAcquired = resolve));
  const settled = (): void => {
    if (acquired + errors === n) allAcquired();
  };
  // When a request was *sent*, recovered from the event: the machine sets
  // expiresAt = sentAt + lease − deadlineMargin(lease). Replies to a burst of renewals come back
  // spread by the server's queue; the send times show whether the client bunches them.
  const sentAt = (event: { expiresAt: number; leaseS: number }): number => event.expiresAt - event.leaseS * 1000 + deadlineMargin(event.leaseS * 1000);
  const observer = {
    next: (event: LockEvent): void => {
      const now = performance.now();
      const i = indexOf.get(event.key)!;
      switch (event.type) {
        case 'acquired':
          acquired++;
          lastEventAt[i] = sentAt(event);
          params.progress.advance();
          settled();
          return;
        case 'renewed': {
          const sent = sentAt(event);
          renewals++;
          intervalSum += sent - lastEventAt[i]!;
          intervalCount++;
          lastEventAt[i] = sent;
          renewLatency.record(now - sent);
          if (windowStart >= 0) renewHistogram.add(sent - windowStart);
          return;
        }
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
    acquireStart = performance.now();
    const lockOptions = { acquireTimeoutS: Math.max(10, Math.ceil(params.timeoutMs / 1000)), leaseTtlS: params.leaseTtlS };
    for (let i = 0; i < n; i++) subscriptions[i] = client.lock(keys[i]!, lockOptions).subscribe(observer);
    await withTimeout(acquiring, params.timeoutMs, `(c) acquiring ${n} leases`);
    const acquireMs = performance.now() - acquireStart;
    if (errors > 0) throw new Error(`(c) ${errors} of ${n} acquisitions failed (server max-locks too low?)`);

    await params.gc.collect();
    const held = process.memoryUsage();

    params.progress.step(`(c) N=${n}: holding ${params.holdS} s`, params.holdS * 10);
    renewals = 0;
    intervalSum = 0;
    intervalCount = 0;
    windowStart = performance.now();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const ticks = Math.ceil(params.holdS * 10);
    for (let t = 0; t < ticks; t++) {
      await new Promise<void>((resolve) => setTimeout(resolve, Math.min(BUCKET_MS, params.holdS * 1000 - t * BUCKET_MS)));
      params.progress.advance();
    }
    const wallMs = performance.now() - windowStart;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    windowStart = -1;

    await params.gc.collect();
    const after = process.memoryUsage();
    const renewPeak = renewHistogram.max;
    const renewMean = renewHistogram.total / renewHistogram.length;
    return {
      leases: n,
      leaseTtlS: params.leaseTtlS,
      holdS: params.holdS,
      acquireMs,
      heapBytesPerLease: (held.heapUsed - before.heapUsed) / n,
      rssBytesPerLease: (held.rss - before.rss) / n,
      heapGrowthDuringHoldBytes: after.heapUsed - held.heapUsed,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      eventLoopUtilization: elu.utilization,
      renewals,
      renewIntervalMs: intervalCount > 0 ? intervalSum / intervalCount : Number.NaN,
      renewPeakPer100ms: renewPeak,
      renewMeanPer100ms: renewMean,
      renewPeakToMean: renewMean > 0 ? renewPeak / renewMean : Number.NaN,
      renewLatencyP50Ms: renewLatency.summary().p50Ms,
      renewLatencyP99Ms: renewLatency.summary().p99Ms,
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
