/**
 * dflockd-rx — the RxJS-native client for the dflockd lock server.
 *
 * Sections: the reactive client, lease events and operators, the Promise facade, options and
 * sharding, errors, and the low-level protocol (sockets and one function per wire command).
 * @packageDocumentation
 */

// ── The reactive client ─────────────────────────────────────────────────────────────
export { DflockdClient } from './client.js';
export type { ClientEvent } from './client.js';
export { whileHeld } from './operators.js';
export type { WithLockWork } from './with-lock.js';

// ── Lease events ────────────────────────────────────────────────────────────────────
export type { AcquiredEvent, LockEvent, LostEvent, LostReason, QueuedEvent, RenewedEvent } from './lease/events.js';

// ── The Promise facade (Python-client parity) ───────────────────────────────────────
export { DistributedLock } from './facade/distributed-lock.js';
export { DistributedSemaphore } from './facade/distributed-semaphore.js';
export type { AbortOptions, DistributedLockOptions, HeldLock, OwnClientLockOptions, SharedClientLockOptions } from './facade/distributed-lock.js';
export type { LockClient } from './lock-client.js';
export type { LeaseClient } from './lease-client.js';

// ── Options and sharding ────────────────────────────────────────────────────────────
export { CLIENT_DEFAULTS, LOCK_DEFAULTS } from './options.js';
export { monotonicScheduler } from './scheduler.js';
export type { ClientOptions, LockOptions, ResolvedClientOptions, ServerAddress, ServerSpec, ShardingStrategy } from './options.js';
export { stableHashShard } from './sharding.js';

// ── Errors ──────────────────────────────────────────────────────────────────────────
export {
  AcquireTimeoutError,
  AlreadyEnqueuedError,
  AuthError,
  ConnectTimeoutError,
  ConnectionError,
  DflockdError,
  DrainingError,
  InvalidArgumentError,
  InvalidStateError,
  LeaseExpiredError,
  LeaseLostError,
  LimitMismatchError,
  MaxLocksError,
  MaxWaitersError,
  NotEnqueuedError,
  NotLeaderError,
  ProtocolError,
  ServerError,
} from './errors.js';
export type { DflockdErrorCode, ErrorContext } from './errors.js';

// ── Low level: sockets, connections, one function per wire command ──────────────────
export { connectLineSocket } from './transport/line-socket.js';
export type { LineSocket, LineSocketOptions } from './transport/line-socket.js';
export { Connection } from './connection/connection.js';
export type { ConnectionSettings, ReplyCallback } from './connection/connection.js';
export { openConnection as connect } from './connection/open-connection.js';
export type { ConnectionTiming, OpenConnectionOptions as ConnectOptions } from './connection/open-connection.js';
export { auth, enqueue, lock, release, renew, semEnqueue, semLock, semRelease, semRenew, semWait, stats, wait } from './commands.js';
export type { ConnectionLike, EnqueueResult, Grant, LowLevelLockOptions, Ok, Renewal } from './commands.js';
export { LineDecoder, encodeRequest } from './protocol/codec.js';
export { WIRE_VERBS } from './protocol/commands.js';
export { fenceOf } from './protocol/fence.js';
export type { CommandName, ExpectedReply, Request } from './protocol/commands.js';
export { parseReply } from './protocol/replies.js';
export type { Reply } from './protocol/replies.js';
export type { IdleStats, LockStats, SemaphoreStats, Stats } from './protocol/stats.js';
