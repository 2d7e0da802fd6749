import { Observable, map, switchMap, take } from 'rxjs';
import type { Connection } from './connection/connection.js';
import type { ServerPool } from './connection/pool.js';
import { ProtocolError } from './errors.js';
import * as wire from './protocol/commands.js';
import type { Reply } from './protocol/replies.js';
import { Stats, toStats } from './protocol/stats.js';

/** A grant: the token and the lease length in seconds. */
export interface Grant {
  readonly token: string;
  readonly leaseS: number;
}

/** The reply to `e`/`se`: held at once (with its grant), or queued. */
export type EnqueueResult = ({ readonly status: 'acquired' } & Grant) | { readonly status: 'queued' };

const grant = (reply: Reply): Grant => {
  if (reply.kind === 'granted' || reply.kind === 'acquired') return { token: reply.token, leaseS: reply.leaseS };
  throw new ProtocolError(`expected a grant, got ${reply.kind}`);
};

/** `l`: acquire a lock on `conn`, blocking the connection up to `acquireTimeoutS`. */
export function lock(conn: Connection, key: string, options: { acquireTimeoutS: number; leaseTtlS?: number }): Observable<Grant> {
  return conn.request$(wire.lockRequest(key, options.acquireTimeoutS, options.leaseTtlS)).pipe(map(grant));
}

/** `sl`: acquire a semaphore slot on `conn`. */
export function semLock(conn: Connection, key: string, limit: number, options: { acquireTimeoutS: number; leaseTtlS?: number }): Observable<Grant> {
  return conn.request$(wire.semLockRequest(key, options.acquireTimeoutS, limit, options.leaseTtlS)).pipe(map(grant));
}

/** `e`: join a lock's queue without blocking. */
export function enqueue(conn: Connection, key: string, options: { leaseTtlS?: number } = {}): Observable<EnqueueResult> {
  return conn.request$(wire.enqueueRequest(key, options.leaseTtlS)).pipe(map(enqueued));
}

/** `se`: join a semaphore's queue without blocking. */
export function semEnqueue(conn: Connection, key: string, limit: number, options: { leaseTtlS?: number } = {}): Observable<EnqueueResult> {
  return conn.request$(wire.semEnqueueRequest(key, limit, options.leaseTtlS)).pipe(map(enqueued));
}

function enqueued(reply: Reply): EnqueueResult {
  return reply.kind === 'queued' ? { status: 'queued' } : { status: 'acquired', ...grant(reply) };
}

/** `w`: wait (blocking the connection) for the place taken by `enqueue`. */
export function wait(conn: Connection, key: string, timeoutS: number): Observable<Grant> {
  return conn.request$(wire.waitRequest(key, timeoutS)).pipe(map(grant));
}

/** `sw`: wait for the slot taken by `semEnqueue`. */
export function semWait(conn: Connection, key: string, timeoutS: number): Observable<Grant> {
  return conn.request$(wire.waitRequest(key, timeoutS, true)).pipe(map(grant));
}

/** `r`: release a lock; errors with `ServerError` when the token is not a holder any more. */
export function release(conn: Connection, key: string, token: string): Observable<void> {
  return conn.request$(wire.releaseRequest(key, token)).pipe(map(() => undefined));
}

/** `sr`: release a semaphore slot. */
export function semRelease(conn: Connection, key: string, token: string): Observable<void> {
  return conn.request$(wire.releaseRequest(key, token, true)).pipe(map(() => undefined));
}

/** `n`: renew a lock; emits the new lease in seconds. Pass the lease: without it the server resets to its default. */
export function renew(conn: Connection, key: string, token: string, leaseTtlS?: number): Observable<number> {
  return conn.request$(wire.renewRequest(key, token, leaseTtlS)).pipe(map(renewed));
}

/** `sn`: renew a semaphore slot. */
export function semRenew(conn: Connection, key: string, token: string, leaseTtlS?: number): Observable<number> {
  return conn.request$(wire.renewRequest(key, token, leaseTtlS, true)).pipe(map(renewed));
}

function renewed(reply: Reply): number {
  if (reply.kind === 'renewed') return reply.leaseS;
  throw new ProtocolError(`expected a renewal, got ${reply.kind}`);
}

/** `auth`: authenticate (must be the first request when the server has a token). */
export function auth(conn: Connection, token: string): Observable<void> {
  return conn.request$(wire.authRequest(token)).pipe(map(() => undefined));
}

/** `stats`: a typed snapshot of the server. */
export function stats(conn: Connection): Observable<Stats> {
  return conn.request$(wire.statsRequest()).pipe(
    map((reply) => {
      if (reply.kind !== 'stats') throw new ProtocolError(`expected stats, got ${reply.kind}`);
      return toStats(reply.json, conn.server);
    }),
  );
}

/** `stats` over one of a pool's shared connections. */
export function statsFrom(pool: ServerPool): Observable<Stats> {
  return pool.shared().pipe(
    take(1),
    switchMap((conn) => stats(conn)),
  );
}
