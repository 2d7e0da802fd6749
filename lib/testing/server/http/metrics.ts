/**
 * `GET /metrics`: a few gauges in the Prometheus text format (0.0.4), enough
 * for a dashboard in a test setup. The names are this server's own, not a
 * copy of dflockd's metric set.
 *
 * @module
 */

import type { ResourceTable } from '../resource-table.js';

/** The live figures the gauges show. */
export interface MetricsSource {
  readonly table: ResourceTable;
  readonly connections: number;
  readonly sessions: number;
  readonly draining: boolean;
}

/** Renders the gauges. */
export function renderMetrics({ table, connections, sessions, draining }: MetricsSource): string {
  let locksHeld = 0;
  let semaphoreSlots = 0;
  let waiters = 0;
  for (const res of table.resources.values()) {
    // By kind, not limit: in 2.1 a semaphore of limit 1 is still a semaphore.
    if (res.kind === 'lock') locksHeld += res.holders.size;
    else semaphoreSlots += res.holders.size;
    waiters += res.waiters.size;
  }
  const gauges: readonly [string, string, number][] = [
    ['dflockd_connections', 'Connections as stats counts them: TCP connections plus HTTP sessions.', connections],
    ['dflockd_http_sessions', 'HTTP sessions currently open.', sessions],
    ['dflockd_keys', 'Keys in the lock table, idle ones included.', table.resources.size],
    ['dflockd_locks_held', 'Locks currently held.', locksHeld],
    ['dflockd_semaphore_slots_held', 'Semaphore slots currently held.', semaphoreSlots],
    ['dflockd_waiters', 'Requests queued for a lock or a semaphore slot.', waiters],
    ['dflockd_ready', '1 while the server accepts lock calls, 0 while it drains.', draining ? 0 : 1],
  ];
  return gauges.map(([name, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`).join('');
}
