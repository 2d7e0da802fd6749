import { performance } from 'node:perf_hooks';
import { Observable, map, switchMap, take } from 'rxjs';
import { Connection } from './connection/connection.js';
import type { ServerPool } from './connection/pool.js';
import { ProtocolError } from './errors.js';
import { LOCK_DEFAULTS } from './options.js';
import * as wire from './protocol/commands.js';
import type { Reply } from './protocol/replies.js';
import { Stats, toStats } from './protocol/stats.js';
import type { LineSocket } from './transport/line-socket.js';

/** A grant: `ok <token> <lease>` (`kind: 'granted'`) or `acquired <token> <lease>` (`kind: 'acquired'`). */
export type Grant = Extract<Reply, { kind: 'granted' | 'acquired' }>;

/** The reply to `e`/`se`: held at once (with its grant), or queued; `status` names which. */
export type EnqueueResult =
  | (Extract<Reply, { kind: 'acquired' }> & { readonly status: 'acquired' })
  | (Extract<Reply, { kind: 'queued' }> & { readonly status: 'queued' });

/** A renewal: `ok <lease>`, the new lease length in seconds. */
export type Renewal = Extract<Reply, { kind: 'renewed' }>;

/** A plain `ok` (release, auth). */
export type Ok = Extract<Reply, { kind: 'ok' }>;

/** Acquire options of the low-level `lock`/`semLock`. */
export interface LowLevelLockOptions {
  /** Seconds the server may block the connection; 0 tries once. @default 10 */
  readonly acquireTimeoutS?: number;
  /** Lease to request. @default the server's */
  readonly leaseTtlS?: number;
}

/** Either a {@link Connection} or a bare {@link LineSocket} from `connectLineSocket()`. */
export type ConnectionLike = Connection | LineSocket;

// One Connection per socket, so every command on a socket shares its strict reply order.
const wrapped = new WeakMap<LineSocket, Connection>();

function asConnection(target: ConnectionLike): Connection {
  if (target instanceof Connection) return target;
  let conn = wrapped.get(target);
  if (conn === undefined) {
    conn = new Connection(target, target.remote, () => performance.now());
    wrapped.set(target, conn);
  }
  return conn;
}

function expect<K extends Reply['kind']>(kinds: readonly K[], what: string): (reply: Reply) => Extract<Reply, { kind: K }> {
  return (reply) => {
    if ((kinds as readonly string[]).includes(reply.kind)) return reply as Extract<Reply, { kind: K }>;
    throw new ProtocolError(`expected ${what}, got ${reply.kind}`);
  };
}

const asGrant = expect(['granted', 'acquired'], 'a grant');
const asRenewal = expect(['renewed'], 'a renewal');
const asOk = expect(['ok'], 'ok');
const asEnqueued = (reply: Reply): EnqueueResult => {
  if (reply.kind === 'queued') return { ...reply, status: 'queued' };
  if (reply.kind === 'acquired') return { ...reply, status: 'acquired' };
  throw new ProtocolError(`expected acquired or queued, got ${reply.kind}`);
};

/**
 * `l`: acquire a lock on `conn`, blocking the connection up to `acquireTimeoutS`.
 * @example
 * ```ts
 * lock(conn, 'orders', { acquireTimeoutS: 0 }).subscribe(({ token, leaseS }) => …);
 * ```
 */
export function lock(conn: ConnectionLike, key: string, options: LowLevelLockOptions = {}): Observable<Grant> {
  return asConnection(conn).request$(wire.lockRequest(key, options.acquireTimeoutS ?? LOCK_DEFAULTS.acquireTimeoutS, options.leaseTtlS)).pipe(map(asGrant));
}

/** `sl`: acquire one of `limit` semaphore slots on `conn`. */
export function semLock(conn: ConnectionLike, key: string, limit: number, options: LowLevelLockOptions = {}): Observable<Grant> {
  return asConnection(conn).request$(wire.semLockRequest(key, options.acquireTimeoutS ?? LOCK_DEFAULTS.acquireTimeoutS, limit, options.leaseTtlS)).pipe(map(asGrant));
}

/** `e`: join a lock's queue without blocking. */
export function enqueue(conn: ConnectionLike, key: string, options: { readonly leaseTtlS?: number } = {}): Observable<EnqueueResult> {
  return asConnection(conn).request$(wire.enqueueRequest(key, options.leaseTtlS)).pipe(map(asEnqueued));
}

/** `se`: join a semaphore's queue without blocking. */
export function semEnqueue(conn: ConnectionLike, key: string, limit: number, options: { readonly leaseTtlS?: number } = {}): Observable<EnqueueResult> {
  return asConnection(conn).request$(wire.semEnqueueRequest(key, limit, options.leaseTtlS)).pipe(map(asEnqueued));
}

/** `w`: wait (blocking the connection) for the place taken by `enqueue`. */
export function wait(conn: ConnectionLike, key: string, timeoutS: number): Observable<Grant> {
  return asConnection(conn).request$(wire.waitRequest(key, timeoutS)).pipe(map(asGrant));
}

/** `sw`: wait for the slot taken by `semEnqueue`. */
export function semWait(conn: ConnectionLike, key: string, timeoutS: number): Observable<Grant> {
  return asConnection(conn).request$(wire.waitRequest(key, timeoutS, true)).pipe(map(asGrant));
}

/** `r`: release a lock; errors with `ServerError` when the token is not a holder any more. */
export function release(conn: ConnectionLike, key: string, token: string): Observable<Ok> {
  return asConnection(conn).request$(wire.releaseRequest(key, token)).pipe(map(asOk));
}

/** `sr`: release a semaphore slot. */
export function semRelease(conn: ConnectionLike, key: string, token: string): Observable<Ok> {
  return asConnection(conn).request$(wire.releaseRequest(key, token, true)).pipe(map(asOk));
}

/** `n`: renew a lock; emits the new lease. Pass the lease: without it the server resets to its default. */
export function renew(conn: ConnectionLike, key: string, token: string, leaseTtlS?: number): Observable<Renewal> {
  return asConnection(conn).request$(wire.renewRequest(key, token, leaseTtlS)).pipe(map(asRenewal));
}

/** `sn`: renew a semaphore slot. */
export function semRenew(conn: ConnectionLike, key: string, token: string, leaseTtlS?: number): Observable<Renewal> {
  return asConnection(conn).request$(wire.renewRequest(key, token, leaseTtlS, true)).pipe(map(asRenewal));
}

/** `auth`: authenticate (must be the first request when the server has a token). */
export function auth(conn: ConnectionLike, token: string): Observable<Ok> {
  return asConnection(conn).request$(wire.authRequest(token)).pipe(map(asOk));
}

/** `stats`: a typed snapshot of the server. */
export function stats(conn: ConnectionLike): Observable<Stats> {
  const c = asConnection(conn);
  return c.request$(wire.statsRequest()).pipe(
    map((reply) => {
      if (reply.kind !== 'stats') throw new ProtocolError(`expected stats, got ${reply.kind}`);
      return toStats(reply.json, c.server);
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
