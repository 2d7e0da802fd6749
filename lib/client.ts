import { Observable, Subject, defer, filter, merge, throwError } from 'rxjs';
import { ServerPool } from './connection/pool.js';
import { ConnectionError, DflockdError, InvalidArgumentError } from './errors.js';
import type { LockEvent, LostEvent } from './lease/events.js';
import { LeaseContext, LeaseRegistry, LeaseReport, TwoPhaseControl, runLease } from './lease/lease-stream.js';
import { ContendedKeys } from './lease/contended-keys.js';
import { OwnReleases } from './lease/own-releases.js';
import { RenewScheduler } from './lease/renew-scheduler.js';
import { ClientOptions, LockOptions, ResolvedClientOptions, ResolvedLockOptions, resolveClientOptions, resolveLockOptions } from './options.js';
import { checkInteger, checkKey } from './protocol/validate.js';
import type { Stats } from './protocol/stats.js';
import { pickServer } from './sharding.js';
import { statsFrom } from './commands.js';
import { WithLockWork, runWithLock } from './with-lock.js';
import type { ClientEvent, LockClient } from './lock-client.js';

export type { ClientEvent } from './lock-client.js';

/** The share of `serverIdleTimeoutS` after which an idle pooled connection is closed or pinged. */
const POOL_IDLE_SHARE = 0.4;
/**
 * Leases renew at least this often (share of `serverIdleTimeoutS`), whatever their length: each
 * claim ends at the idle timeout, and this leaves room for a slow renewal before that.
 */
const RENEW_SHARE = 0.6;

/**
 * The reactive dflockd client: one connection pool per server, keys spread by a sharding
 * strategy, and every acquisition a cold Observable of lease events.
 *
 * @example
 * ```ts
 * const client = new DflockdClient({ servers: [['127.0.0.1', 6388]] });
 * const sub = client.lock('orders', { acquireTimeoutS: 10 }).subscribe((ev) => console.log(ev.type));
 * // … later: releases the lock
 * sub.unsubscribe();
 * await client.close();
 * ```
 */
export class DflockdClient implements AsyncDisposable, LockClient {
  /** The validated options in force. */
  readonly options: ResolvedClientOptions;
  private readonly pools: ServerPool[];
  /** Per server (same index as the pools): the keys it recently called busy. */
  private readonly contended: ContendedKeys[];
  /** Per server: this client's releases still on their way (a re-take follows its own release). */
  private readonly ownReleases: OwnReleases[];
  private readonly eventsSubject = new Subject<ClientEvent>();
  /** Releases written and not yet answered, and who waits for them all to be (close()). */
  private releasesInFlight = 0;
  private readonly releasesDrained: Array<() => void> = [];
  private readonly active = new LeaseRegistry();
  private closing: Promise<void> | undefined;
  /** What every acquisition of this client shares. */
  private readonly leaseContext: LeaseContext;

  /**
   * Hot stream of everything: connections opened and closed, and per key acquired, renewed,
   * lost, released, release failures.
   */
  readonly events$: Observable<ClientEvent> = this.eventsSubject.asObservable();

  /** The `lost` subset of {@link events$}: every lease this client lost while it was wanted. */
  readonly lost$: Observable<LostEvent & { readonly server: string }> = this.events$.pipe(
    filter((e): e is LostEvent & { readonly server: string } => e.type === 'lost'),
  );

  /** @throws InvalidArgumentError naming the bad option; nothing is connected until the first subscription. */
  constructor(options: ClientOptions = {}) {
    this.options = resolveClientOptions(options);
    const idleMs = this.options.serverIdleTimeoutS * 1000 * POOL_IDLE_SHARE;
    const scheduler = this.options.scheduler;
    const now = (): number => scheduler.now();
    this.pools = this.options.servers.map(
      (server) =>
        new ServerPool({
          host: server.host,
          port: server.port,
          tls: this.options.tls,
          authToken: this.options.authToken,
          connectTimeoutS: this.options.connectTimeoutS,
          scheduler: this.options.scheduler,
          requestTimeoutMs: this.options.requestTimeoutS * 1000,
          idleMs,
          maxShared: this.options.maxSharedConnections,
          onEvent: (event) => this.eventsSubject.next(event),
        }),
    );
    this.contended = this.pools.map(() => new ContendedKeys(now));
    this.ownReleases = this.pools.map(() => new OwnReleases());
    const heartbeatMs = this.options.serverIdleTimeoutS * 1000 * RENEW_SHARE;
    const idleTimeoutMs = this.options.serverIdleTimeoutS * 1000;
    this.leaseContext = {
      acquisition: {
        scheduler,
        timing: { renewRatio: this.options.renewRatio, heartbeatMs, idleTimeoutMs },
        requestTimeoutMs: this.options.requestTimeoutS * 1000,
        dedicatedConnections: this.options.dedicatedConnections,
        queuedHeartbeatMs: idleMs,
      },
      held: { scheduler, wheel: new RenewScheduler(scheduler), fencing: this.options.fencing },
      heartbeatMs,
      idleTimeoutMs,
      emitted: this.onEmitted,
      report: this.onReport,
      // close() ends each acquisition visibly: `lost` for a held lease, an error while acquiring.
      registry: this.active,
    };
  }

  /**
   * A cold Observable acquiring `key` as a lock on subscribe: `queued` (only if it had to wait),
   * `acquired`, `renewed` …, and `lost` if the lease ends while subscribed. Unsubscribing releases.
   * Acquire failures are errors (`AcquireTimeoutError`, `AuthError`, …), never events.
   */
  lock(key: string, options?: LockOptions): Observable<LockEvent> {
    return this.acquisition(key, undefined, options);
  }

  /** As {@link lock}, for one of `limit` slots of a counting semaphore. */
  semaphore(key: string, limit: number, options?: LockOptions): Observable<LockEvent> {
    return this.acquisition(key, limit, options);
  }

  /**
   * Acquires `key`, runs `work`, releases; settles like `lastValueFrom(from(result), { defaultValue: undefined })`
   * (a Promise's value, an Observable's or array's last value, `undefined` for an empty one).
   * The work's `signal` aborts when the lease is lost (the work then rejects with
   * `LeaseLostError`) or when `options.signal` does; an error from `work` is never masked by a
   * release error. Aborting `options.signal` while waiting rejects with its reason and leaves the queue.
   * Settles once the release was answered: the key is free for the next holder by then.
   *
   * @example
   * ```ts
   * await client.withLock('orders', async (signal) => processOrders(signal));
   * ```
   */
  withLock<T>(key: string, work: WithLockWork<T>, options?: LockOptions & { readonly signal?: AbortSignal }): Promise<T> {
    return runWithLock((observer) => this.acquisition(key, undefined, options, undefined, observer), work, options?.signal);
  }

  /** A typed snapshot of one server's `stats` (by index), or of every server (one emission each). */
  stats(server?: number): Observable<Stats> {
    return defer(() => {
      if (server !== undefined) {
        checkInteger(server, 'server', 0);
        if (server >= this.pools.length) return throwError(() => new InvalidArgumentError('server', `index ${server} is out of range (${this.pools.length} servers)`));
        return statsFrom(this.pools[server]!);
      }
      return merge(...this.pools.map((pool) => statsFrom(pool)));
    });
  }

  /** The index of the server that holds `key`, per the sharding strategy. */
  serverFor(key: string): number {
    return pickServer(this.options.shardingStrategy, checkKey(key), this.pools.length);
  }

  /**
   * Releases everything still held, ends every connection, and resolves when the releases
   * were acknowledged (or their sockets are gone). Later acquisitions fail.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const lease of this.active.snapshot()) lease.shutdown();
      // A stalled server must not make close() hang: releases get connectTimeoutS to be acknowledged.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.connectTimeoutS * 1000);
        timer.unref();
      });
      const drained = new Promise<void>((resolve) => (this.releasesInFlight === 0 ? resolve() : this.releasesDrained.push(resolve)));
      this.closing = Promise.race([drained, bound]).then(() => {
        clearTimeout(timer);
        for (const pool of this.pools) pool.close();
        this.eventsSubject.complete();
      });
    }
    return this.closing;
  }

  /** Same as {@link close}, for `await using client = new DflockdClient()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The acquisition behind {@link lock} and {@link semaphore}, and the facade's two-phase mode.
   * `observer.released` hears how this acquisition's release ended (the facade's `release()`
   * result): true when the server confirmed it.
   * @internal
   */
  acquisition(
    key: string,
    limit: number | undefined,
    options: LockOptions | ResolvedLockOptions | undefined,
    twoPhase?: TwoPhaseControl,
    observer?: { released(ok: boolean, error?: DflockdError): void },
  ): Observable<LockEvent> {
    return new Observable<LockEvent>((subscriber) => {
      if (this.closing !== undefined) {
        subscriber.error(new ConnectionError(`key "${String(key)}": the client is closed; create a new DflockdClient`, { key: String(key) }));
        return undefined;
      }
      let server: number;
      let resolved;
      try {
        checkKey(key);
        if (limit !== undefined) checkInteger(limit, 'limit', 1);
        resolved = resolveLockOptions(options, this.options);
        server = pickServer(this.options.shardingStrategy, key, this.pools.length);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const released = observer === undefined ? undefined : (ok: boolean, error?: DflockdError): void => observer.released(ok, error);
      return runLease(subscriber, this.leaseContext, { key, limit, options: resolved, pool: this.pools[server]!, contended: this.contended[server]!, ownReleases: this.ownReleases[server]!, twoPhase, released });
    });
  }

  /** Where every acquisition's events go besides its subscriber (an arrow: one function for all of them). */
  private readonly onEmitted = (event: LockEvent, server: string): void => {
    // Skip building the event when nobody listens (the common case on a hot path).
    if (this.eventsSubject.observed) this.eventsSubject.next(withServer(event, server));
  };

  /** Where every acquisition reports (an arrow: one function for all of them, not one each). */
  private readonly onReport = (report: LeaseReport): void => {
    switch (report.type) {
      case 'release-sent':
        this.releasesInFlight++;
        return;
      case 'teardown-failed':
        this.eventsSubject.next({ type: 'release-failed', key: report.key, token: '', server: report.server, error: report.error });
        return;
      case 'released':
        if (--this.releasesInFlight === 0 && this.releasesDrained.length > 0) for (const resolve of this.releasesDrained.splice(0)) resolve();
        if (report.ok) this.eventsSubject.next({ type: 'released', key: report.key, token: report.token, server: report.server });
        else this.eventsSubject.next({ type: 'release-failed', key: report.key, token: report.token, server: report.server, error: report.error! });
        return;
    }
  };
}

/**
 * The event as `events$` shows it, with its server. Built field by field, one literal per type:
 * a spread or `Object.assign` over events of four shapes takes V8's slow generic path.
 */
function withServer(event: LockEvent, server: string): ClientEvent {
  switch (event.type) {
    case 'queued':
      return { type: 'queued', key: event.key, server };
    case 'acquired':
    case 'renewed':
      return { type: event.type, key: event.key, token: event.token, leaseS: event.leaseS, expiresAt: event.expiresAt, fence: event.fence, server };
    case 'lost':
      return { type: 'lost', key: event.key, token: event.token, reason: event.reason, error: event.error, server };
  }
}
