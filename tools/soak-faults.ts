/** The soak's fault injector: seeded, one fault at a time, bounded in count and in time. */
import type { FaultProxy } from 'dflockd-rx/testing';
import { mulberry32 } from './prng.js';
import type { FaultKind } from './soak-report.js';

/** What the schedule depends on. */
export interface FaultSchedule {
  readonly seed: number;
  /** Length of the run: at most 3 faults per second of it. */
  readonly seconds: number;
  /** The lease the clients use (s): black-holes stay well below it. */
  readonly leaseS: number;
  /** A long black-hole (one connection, both ways) lasts this long: past the clients' reply watchdog. */
  readonly longBlackholeMs: number;
}

/**
 * Injects faults through `proxy` until `stopped` aborts or the fault budget is spent: latency
 * spikes (20–300 ms), black-holes and resets, each on one random connection or (15 %) on all,
 * in a random direction. Latency and black-holes last 100 ms up to ¾ of the lease (at most
 * 1.5 s), then heal. These black-holes stay shorter than the lease and the server's read
 * timeout; one fault in twenty is a long black-hole of `longBlackholeMs` on one connection,
 * past the clients' reply watchdog but inside the server's read timeout. `sleep` must resolve
 * early when `stopped` aborts.
 */
export async function injectFaults(
  proxy: FaultProxy,
  schedule: FaultSchedule,
  sleep: (ms: number) => Promise<void>,
  stopped: AbortSignal,
  counts: Record<FaultKind, number>,
): Promise<void> {
  const rng = mulberry32(schedule.seed ^ 0x5eed_f00d);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
  const maxFaults = Math.ceil(schedule.seconds * 3);
  const maxFaultMs = Math.min(schedule.leaseS * 1000 * 0.75, 1500);
  for (let i = 0; i < maxFaults && !stopped.aborted; i++) {
    await sleep(150 + rng() * 600);
    const live = proxy.connections;
    if (stopped.aborted || live.length === 0) continue;
    const targets = rng() < 0.15 ? live : [pick(live)];
    // One fault in twenty is a black-hole that outlasts the reply watchdog: that connection's
    // leases must be lost as disconnected, and only that connection's.
    const kind = rng() < 0.05 ? 'long-blackhole' : pick<FaultKind>(['latency', 'latency', 'blackhole', 'blackhole', 'reset']);
    const direction = pick(['both', 'toServer', 'toClient'] as const);
    counts[kind]++;
    if (kind === 'reset') {
      for (const c of targets) c.reset();
      continue;
    }
    if (kind === 'long-blackhole') {
      const c = targets[0]!;
      c.blackhole();
      await sleep(schedule.longBlackholeMs);
      c.heal();
      continue;
    }
    if (kind === 'latency') {
      const ms = 20 + rng() * 280;
      for (const c of targets) c.setLatency(ms, { direction });
    } else {
      for (const c of targets) c.blackhole({ direction });
    }
    await sleep(100 + rng() * (maxFaultMs - 100));
    for (const c of targets) c.heal();
  }
}
