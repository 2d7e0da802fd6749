/**
 * dflockd-rx/testing — an in-process dflockd-compatible server and a fault-injecting proxy,
 * for your own tests. Never imported by the client itself.
 * @packageDocumentation
 */

// ── The test server ─────────────────────────────────────────────────────────────────
export { DflockdTestServer } from './server/test-server.js';
export type { CompatMode, DflockdTestServerOptions, StopOptions } from './server/test-server.js';
export type { ResolvedServerOptions } from './server/options.js';
export type {
  DflockdServerStats,
  IdleStats as ServerIdleStats,
  LockStats as ServerLockStats,
  SemaphoreStats as ServerSemaphoreStats,
} from './server/stats.js';

// ── The fault proxy ─────────────────────────────────────────────────────────────────
export { FaultConnection, FaultProxy } from './fault-proxy.js';
export { FaultControls } from './fault-proxy/fault-controls.js';
export type { BlackholeMode, BlackholeOptions, FaultDirection, FaultProxyOptions, LatencyOptions, RefuseOptions } from './fault-proxy.js';
