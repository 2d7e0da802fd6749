/**
 * Every failure this package reports is a {@link DflockdError} with a stable `code`:
 * the server's status string for server replies, an UPPER_CASE name for client-side failures.
 * `key`, `command` and `cause` say where it happened; the message says what to change.
 */
import type { LostReason } from './lease/events.js';

/**
 * The codes this package knows: every server status it maps to a class, then the client-side
 * failures. `DflockdError.code` is this union kept open (`| (string & {})`): an unknown
 * `error_*` status from a newer server keeps its own string, while a `switch` over the known
 * codes is still checked and completed by the compiler.
 */
export type DflockdErrorCode =
  | 'timeout'
  | 'error_auth'
  | 'error_max_locks'
  | 'error_max_waiters'
  | 'error_limit_mismatch'
  | 'error_not_enqueued'
  | 'error_already_enqueued'
  | 'error_lease_expired'
  | 'error_draining'
  | 'error_not_leader'
  | 'error'
  | 'CONNECTION_CLOSED'
  | 'CONNECT_TIMEOUT'
  | 'PROTOCOL_ERROR'
  | 'LEASE_LOST'
  | 'INVALID_ARGUMENT'
  | 'INVALID_STATE'
  | 'TCP_UNAVAILABLE'
  | 'TEARDOWN';

/** Where an error happened: the key, the wire command, the server, and the underlying cause. */
export interface ErrorContext {
  /** The lock or semaphore key the request was about. */
  readonly key?: string;
  /** The wire verb (`l`, `w`, `n`, …) or client operation that failed. */
  readonly command?: string;
  /** `host:port` of the server involved. */
  readonly server?: string;
  /** The lower-level error, if any. */
  readonly cause?: unknown;
}

/**
 * Base class of every error raised by dflockd-rx.
 *
 * @example
 * ```ts
 * try { await lock.hold(); } catch (e) {
 *   if (e instanceof DflockdError && e.code === 'error_max_locks') { … }
 * }
 * ```
 */
export class DflockdError extends Error {
  /** Stable machine-readable code: a server status (`timeout`, `error_auth`, …) or a client code (`CONNECTION_CLOSED`, …). */
  readonly code: DflockdErrorCode | (string & {});
  /** The key the failed request was about, when there was one. */
  readonly key: string | undefined;
  /** The wire command (or client operation) that failed. */
  readonly command: string | undefined;
  /** The server (`host:port`) involved, when known. */
  readonly server: string | undefined;

  constructor(code: DflockdErrorCode | (string & {}), message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.code = code;
    this.key = context.key;
    this.command = context.command;
    this.server = context.server;
  }
}

/** `timeout`: the lock or slot was not granted within `acquireTimeoutS`. */
export class AcquireTimeoutError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('timeout', message, context);
  }
}

/** `error_auth`: the server requires a token and the one sent (if any) was refused. */
export class AuthError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_auth', message, context);
  }
}

/** `error_max_locks`: the server's `--max-locks` resource limit is reached (idle keys count). */
export class MaxLocksError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_max_locks', message, context);
  }
}

/** `error_max_waiters`: the key's queue is full (`--max-waiters`); returned even for try-locks. */
export class MaxWaitersError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_max_waiters', message, context);
  }
}

/** `error_limit_mismatch`: the key exists with another limit (a lock vs a semaphore, or another semaphore limit). */
export class LimitMismatchError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_limit_mismatch', message, context);
  }
}

/** `error_not_enqueued`: `wait` without a live `enqueue` on that connection (or after a wait timeout dequeued it). */
export class NotEnqueuedError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_not_enqueued', message, context);
  }
}

/** `error_already_enqueued`: this connection already enqueued on the key. */
export class AlreadyEnqueuedError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_already_enqueued', message, context);
  }
}

/** `error_lease_expired`: the lease granted at enqueue time ran out before `wait`. */
export class LeaseExpiredError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_lease_expired', message, context);
  }
}

/** `error_draining`: the server is shutting down (dflockd ≥ 1.16) and refuses new commands. */
export class DrainingError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error_draining', message, context);
  }
}

/** `error_not_leader`: a cluster follower refused a mutating command (unreleased dflockd cluster mode). */
export class NotLeaderError extends DflockdError {
  /** The leader's `host:port` if the follower named it. */
  readonly leader: string | undefined;
  constructor(message: string, context?: ErrorContext & { leader?: string }) {
    super('error_not_leader', message, context);
    this.leader = context?.leader;
  }
}

/**
 * Plain `error`: the server refused the request (unknown or expired token, bad arguments,
 * shutdown during a blocking call). The connection may or may not still be open.
 */
export class ServerError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('error', message, context);
  }
}

/** `CONNECTION_CLOSED`: the connection could not be opened, or closed before the reply arrived. */
export class ConnectionError extends DflockdError {
  constructor(message: string, context?: ErrorContext, code: 'CONNECTION_CLOSED' | 'CONNECT_TIMEOUT' = 'CONNECTION_CLOSED') {
    super(code, message, context);
  }
}

/** `CONNECT_TIMEOUT`: TCP connect + TLS handshake + auth took longer than `connectTimeoutS`. */
export class ConnectTimeoutError extends ConnectionError {
  constructor(message: string, context?: ErrorContext) {
    super(message, context, 'CONNECT_TIMEOUT');
  }
}

/** `PROTOCOL_ERROR`: the server sent a line this client cannot interpret; the connection is discarded. */
export class ProtocolError extends DflockdError {
  constructor(message: string, context?: ErrorContext) {
    super('PROTOCOL_ERROR', message, context);
  }
}

/** `LEASE_LOST`: the lease ended while work was still running under it (see `whileHeld`, `withLock`). */
export class LeaseLostError extends DflockdError {
  /** Why the lease ended: `expired`, `disconnected`, `deadline` or `server-shutdown`. */
  readonly reason: LostReason | (string & {});
  constructor(message: string, context: ErrorContext & { reason: LostReason | (string & {}) }) {
    super('LEASE_LOST', message, context);
    this.reason = context.reason;
  }
}

/** `INVALID_ARGUMENT`: an argument was refused before anything was sent. */
export class InvalidArgumentError extends DflockdError {
  /** The name of the refused argument or option, e.g. `key`, `leaseTtlS`, `servers[1]`. */
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `${argument}: ${message}`, { command: argument });
    this.argument = argument;
  }
}

/** `INVALID_STATE`: a facade method was called in a state where it cannot work (e.g. acquire() while holding). */
export class InvalidStateError extends DflockdError {
  constructor(message: string, key: string) {
    super('INVALID_STATE', message, { key });
  }
}

// Every error's `name` is its class's name (`new.target.name`), written out here: bundlers rename
// classes (esbuild suffixes one whose name collides in the bundle, `DflockdError3`; minifiers
// shorten them), and a browser bundle's errors must still say what they are. The keys are source
// text, which no bundler renames (spec/package/browser-bundle.spec.ts checks a minified bundle).
for (const [name, cls] of Object.entries({
  DflockdError,
  AcquireTimeoutError,
  AuthError,
  MaxLocksError,
  MaxWaitersError,
  LimitMismatchError,
  NotEnqueuedError,
  AlreadyEnqueuedError,
  LeaseExpiredError,
  DrainingError,
  NotLeaderError,
  ServerError,
  ConnectionError,
  ConnectTimeoutError,
  ProtocolError,
  LeaseLostError,
  InvalidArgumentError,
  InvalidStateError,
})) {
  Object.defineProperty(cls, 'name', { value: name });
}

type ErrorClass = new (message: string, context?: ErrorContext) => DflockdError;

/** One row per server status: the class raised and what to tell the user to change. */
const STATUS_TABLE: Readonly<Record<string, { readonly cls: ErrorClass; readonly hint: string }>> = {
  timeout: { cls: AcquireTimeoutError, hint: 'not granted in time; raise acquireTimeoutS or shorten the holders\' critical sections' },
  error_auth: { cls: AuthError, hint: 'the server refused the auth token; check authToken (or DFLOCKD_AUTH_TOKEN)' },
  error_max_locks: { cls: MaxLocksError, hint: 'the server reached --max-locks (idle keys count until GC); raise it or use fewer keys' },
  error_max_waiters: { cls: MaxWaitersError, hint: 'the key\'s queue is full (--max-waiters); retry later with backoff' },
  error_limit_mismatch: { cls: LimitMismatchError, hint: 'the key exists with another limit (a lock and a semaphore share key names on dflockd 1.10); use another key or the same limit' },
  error_not_enqueued: { cls: NotEnqueuedError, hint: 'wait() needs a live enqueue() first (a wait timeout drops the place); call enqueue() again' },
  error_already_enqueued: { cls: AlreadyEnqueuedError, hint: 'this connection already enqueued on the key; wait() or release() first' },
  error_lease_expired: { cls: LeaseExpiredError, hint: 'the lease granted at enqueue ran out before wait(); call wait() sooner or raise leaseTtlS' },
  error_draining: { cls: DrainingError, hint: 'the server is shutting down; retry against a running server' },
  error_not_leader: { cls: NotLeaderError, hint: 'this cluster node is a follower; point servers at the leader' },
  error: { cls: ServerError, hint: 'the server refused the request (unknown or expired token, bad argument, or shutdown)' },
};

/**
 * Maps a server status line (`timeout`, `error_max_locks`, `error_not_leader 10.0.0.2:6388`, …)
 * to its error class. Unknown `error_*` statuses become a plain {@link DflockdError} keeping the status as `code`.
 */
export function errorFromStatus(status: string, detail: string | undefined, context: ErrorContext = {}): DflockdError {
  // The stack is captured as for any Error: a library must not change Error.stackTraceLimit, a
  // process-wide setting. Measured, the capture costs about a microsecond on the read path's
  // shallow stack, against a round trip of 100 µs or more.
  const where = describeContext(context);
  const row = Object.hasOwn(STATUS_TABLE, status) ? STATUS_TABLE[status] : undefined;
  if (row === undefined) {
    return new DflockdError(status, `${where}: server replied "${status}${detail ? ` ${detail}` : ''}"`, context);
  }
  const message = `${where}: server replied "${status}${detail ? ` ${detail}` : ''}": ${row.hint}`;
  if (row.cls === NotLeaderError) {
    return new NotLeaderError(message, detail === undefined ? context : { ...context, leader: detail });
  }
  return new row.cls(message, context);
}

/** `key "orders" (w on 127.0.0.1:6388)` — the prefix every error message starts with. */
export function describeContext(context: ErrorContext): string {
  const parts: string[] = [];
  if (context.command !== undefined) parts.push(context.command);
  if (context.server !== undefined) parts.push(`on ${context.server}`);
  const head = context.key !== undefined ? `key "${context.key}"` : 'dflockd';
  return parts.length > 0 ? `${head} (${parts.join(' ')})` : head;
}
