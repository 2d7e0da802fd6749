import { Observable, map, switchMap, take } from 'rxjs';
import { Connection } from './connection/connection.js';
import type { ServerPool } from './connection/pool.js';
import { ProtocolError } from './errors.js';
import { CLIENT_DEFAULTS, LOCK_DEFAULTS } from './options.js';
import * as wire from './protocol/commands.js';
import type { Request } from './protocol/commands.js';
import type { Reply } from './protocol/replies.js';
import { Stats, toStats } from './protocol/stats.js';
import { monotonicScheduler } from './scheduler.js';
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
    conn = new Connection(target, { server: target.remote, scheduler: monotonicScheduler, requestTimeoutMs: CLIENT_DEFAULTS.requestTimeoutS * 1000 });
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
const ignore = (): void => undefined;

/**
 * A request that may be answered with a grant, as a cold Observable of its one reply. A grant
 * arriving after the subscriber left (a `timeout(…)`, a `takeUntil`) is not leaked: it is
 * released at once on the same connection, so the key does not stay locked until its lease ends.
 */
function granting<T>(conn: Connection, request: Request, semaphore: boolean, read: (reply: Reply) => T): Observable<T> {
  return new Observable<T>((subscriber) => {
    let live = true;
    conn.send(request, (error, reply) => {
      if (!live) {
        if (reply !== undefined && (reply.kind === 'granted' || reply.kind === 'acquired')) {
          conn.send(wire.checkedAlready.release(request.key, reply.token, semaphore), ignore);
        }
        return;
      }
      if (error !== undefined) {
        subscriber.error(error);
        return;
      }
      let value: T;
      try {
        value = read(reply!);
      } catch (readError) {
        subscriber.error(readError);
        return;
      }
      subscriber.next(value);
      subscriber.complete();
    });
    return () => {
      live = false;
    };
  });
}
const asRenewal = expect(['renewed'], 'a renewal');
const asOk = expect(['ok'], 'ok');
const asEnqueued = (reply: Reply): EnqueueResult => {
  if (reply.kind === 'queued') return { ...reply, status: 'queued' };
  if (reply.kind === 'acquired') return { ...reply, status: 'acquired' };
  throw new ProtocolError(`expected acquired or queued, got ${reply.kind}`);
};

/**
 * `l`: acquire a lock on `conn`, blocking the connection up to `acquireTimeoutS`. Unsubscribing
 * before the reply does not leak the lock: a grant that arrives afterwards is released (`r`).
 * @example
 * ```ts
 * lock(conn, 'orders', { acquireTimeoutS: 0 }).subscribe(({ token, leaseS }) => …);
 * ```
 */
export function lock(conn: ConnectionLike, key: string, options: LowLevelLockOptions = {}): Observable<Grant> {
  return granting(asConnection(conn), wire.lockRequest(key, options.acquireTimeoutS ?? LOCK_DEFAULTS.acquireTimeoutS, options.leaseTtlS), false, asGrant);
}

/** `sl`: acquire one of `limit` semaphore slots on `conn`; a grant arriving after unsubscribe is released (`sr`). */
export function semLock(conn: ConnectionLike, key: string, limit: number, options: LowLevelLockOptions = {}): Observable<Grant> {
  return granting(asConnection(conn), wire.semLockRequest(key, options.acquireTimeoutS ?? LOCK_DEFAULTS.acquireTimeoutS, limit, options.leaseTtlS), true, asGrant);
}

/** `e`: join a lock's queue without blocking; an `acquired` arriving after unsubscribe is released (a `queued` place stays until its `w` or the connection ends). */
export function enqueue(conn: ConnectionLike, key: string, options: { readonly leaseTtlS?: number } = {}): Observable<EnqueueResult> {
  return granting(asConnection(conn), wire.enqueueRequest(key, options.leaseTtlS), false, asEnqueued);
}

/** `se`: join a semaphore's queue without blocking (an `acquired` arriving after unsubscribe is released). */
export function semEnqueue(conn: ConnectionLike, key: string, limit: number, options: { readonly leaseTtlS?: number } = {}): Observable<EnqueueResult> {
  return granting(asConnection(conn), wire.semEnqueueRequest(key, limit, options.leaseTtlS), true, asEnqueued);
}

/** `w`: wait (blocking the connection) for the place taken by `enqueue`; a grant arriving after unsubscribe is released. */
export function wait(conn: ConnectionLike, key: string, timeoutS: number): Observable<Grant> {
  return granting(asConnection(conn), wire.waitRequest(key, timeoutS), false, asGrant);
}

/** `sw`: wait for the slot taken by `semEnqueue`; a grant arriving after unsubscribe is released. */
export function semWait(conn: ConnectionLike, key: string, timeoutS: number): Observable<Grant> {
  return granting(asConnection(conn), wire.waitRequest(key, timeoutS, true), true, asGrant);
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

/**
 * `stats` over one of a pool's shared connections. Never hangs: a server that accepts and never
 * answers fails it with `ConnectionError` within requestTimeoutS (the reply watchdog), a stalled
 * connect or auth with `ConnectTimeoutError` within connectTimeoutS.
 */
export function statsFrom(pool: ServerPool): Observable<Stats> {
  return pool.shared().pipe(
    take(1),
    switchMap((conn) => stats(conn)),
  );
}
