/**
 * dflockd-rx/http — the dflockd client over dflockd 2.x's HTTP API, for browsers (an Angular
 * service), Deno, Bun, edge runtimes and Node ≥ 20. Nothing here, nor anything it imports,
 * touches a Node built-in.
 * @packageDocumentation
 */

// ── The reactive client over HTTP ───────────────────────────────────────────────────
export { DflockdHttpClient } from './http-client.js';
export { HTTP_CLIENT_DEFAULTS } from './http-options.js';
export type { HttpClientOptions, ResolvedHttpClientOptions } from './http-options.js';
export type { HttpFetch, HttpFetchInit, HttpFetchResponse } from './http-transport.js';

// ── The same events, options and errors as `dflockd-rx` (one implementation, re-exported) ──
export type { AcquiredEvent, LockEvent, LostEvent, LostReason, QueuedEvent, RenewedEvent } from '../lease/events.js';
export type { ClientEvent } from '../lock-client.js';
export type { LeaseClient } from '../lease-client.js';
export type { LockOptions } from '../lock-options.js';
export type { Stats, LockStats, SemaphoreStats, IdleStats } from '../protocol/stats.js';
export type { WithLockWork } from '../with-lock.js';
export { whileHeld } from '../operators.js';
export { fenceOf } from '../protocol/fence.js';
export {
  AcquireTimeoutError,
  AlreadyEnqueuedError,
  AuthError,
  ConnectTimeoutError,
  ConnectionError,
  DflockdError,
  DrainingError,
  InvalidArgumentError,
  LeaseExpiredError,
  LeaseLostError,
  LimitMismatchError,
  MaxLocksError,
  MaxWaitersError,
  NotEnqueuedError,
  ProtocolError,
  ServerError,
} from '../errors.js';
