import { Observable, defer, merge, throwError } from 'rxjs';
import { ServerPool } from './connection/pool.js';
import { InvalidArgumentError } from './errors.js';
import type { LeaseContext } from './lease/lease-stream.js';
import { ContendedKeys } from './lease/contended-keys.js';
import { OwnReleases } from './lease/own-releases.js';
import { RenewScheduler } from './lease/renew-scheduler.js';
import { KeyRoute, LeaseClient } from './lease-client.js';
import { ClientOptions, ResolvedClientOptions, resolveClientOptions } from './options.js';
import { checkInteger, checkKey } from './protocol/validate.js';
import type { Stats } from './protocol/stats.js';
import { pickServer } from './sharding.js';
import { requireTcp } from './transport/line-socket.js';
import { statsFrom } from './commands.js';

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
export class DflockdClient extends LeaseClient {
  /** The validated options in force. */
  readonly options: ResolvedClientOptions;
  private readonly pools: ServerPool[];
  /** Per server (same index as the pools): the keys it recently called busy. */
  private readonly contended: ContendedKeys[];
  /** Per server: this client's releases still on their way (a re-take follows its own release). */
  private readonly ownReleases: OwnReleases[];
  /**
   * What every acquisition of this client shares.
   * @internal
   */
  protected readonly leaseContext: LeaseContext;
  /** @internal */
  protected readonly className = 'DflockdClient';

  /**
   * @throws InvalidArgumentError naming the bad option; nothing is connected until the first subscription.
   * @throws DflockdError with code `TCP_UNAVAILABLE` in a browser bundle (use `DflockdHttpClient` there).
   */
  constructor(options: ClientOptions = {}) {
    super();
    requireTcp('new DflockdClient()');
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
      emitted: this.onEmitted,
      report: this.onReport,
      // close() ends each acquisition visibly: `lost` for a held lease, an error while acquiring.
      registry: this.active,
    };
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

  /** @internal */
  protected route(key: string): KeyRoute {
    const server = pickServer(this.options.shardingStrategy, key, this.pools.length);
    return { target: this.pools[server]!, contended: this.contended[server]!, ownReleases: this.ownReleases[server]! };
  }

  /** @internal */
  protected closeTransport(): void {
    for (const pool of this.pools) pool.close();
  }
}
