import { Observable, defer, map } from 'rxjs';
import { ConnectionError, ProtocolError } from '../errors.js';
import type { LeaseContext } from '../lease/lease-stream.js';
import { ContendedKeys } from '../lease/contended-keys.js';
import { OwnReleases } from '../lease/own-releases.js';
import { RenewScheduler } from '../lease/renew-scheduler.js';
import { KeyRoute, LeaseClient } from '../lease-client.js';
import { Stats, toStats } from '../protocol/stats.js';
import { httpError } from './http-mapping.js';
import { HttpClientOptions, ResolvedHttpClientOptions, resolveHttpClientOptions } from './http-options.js';
import { HttpSessions } from './http-sessions.js';
import { HttpTransport } from './http-transport.js';

/** How often a queued two-phase acquisition (the facade's enqueue() before wait()) pings its session, ms. */
const QUEUED_PING_MS = 10_000;

/**
 * The dflockd client over dflockd 2.x's HTTP API (PROTOCOL.md Part 3), for browsers, Deno, Bun,
 * edge runtimes and Node: `fetch`, `AbortController` and timers only. The same `lock()`,
 * `semaphore()`, `withLock()`, `stats()`, `events$` and `LockEvent` contract as `DflockdClient`,
 * on the same acquisition and held-lease logic.
 *
 * One session acquires (created on first use, pinged at half its idle timeout, re-created after
 * the server ended it); a second renews and releases by token, so a renewal never waits behind a
 * long poll. The server serves a session's calls one at a time: acquisitions that must wait are
 * served in turn (one client per independent waiter if that matters).
 *
 * @example
 * ```ts
 * import { DflockdHttpClient } from 'dflockd-rx/http';
 *
 * const client = new DflockdHttpClient({ url: 'http://127.0.0.1:6389' });
 * const sub = client.lock('orders', { acquireTimeoutS: 10 }).subscribe((ev) => console.log(ev.type));
 * sub.unsubscribe(); // releases, whatever the phase (a long poll is aborted)
 * await client.close(); // deletes the sessions
 * ```
 */
export class DflockdHttpClient extends LeaseClient {
  /** The validated options in force. */
  readonly options: ResolvedHttpClientOptions;
  private readonly transport: HttpTransport;
  private readonly sessions: HttpSessions;
  private readonly keys: KeyRoute;
  /** @internal */
  protected readonly leaseContext: LeaseContext;
  /** @internal */
  protected readonly className = 'DflockdHttpClient';

  /** @throws InvalidArgumentError naming the bad option; nothing is sent until the first subscription. */
  constructor(options: HttpClientOptions) {
    super();
    this.options = resolveHttpClientOptions(options);
    const { scheduler, requestTimeoutS, connectTimeoutS, renewRatio, fencing } = this.options;
    this.transport = new HttpTransport({ url: this.options.url, fetch: this.options.fetch, authToken: this.options.authToken, scheduler });
    const server = this.transport.server;
    this.sessions = new HttpSessions({
      transport: this.transport,
      scheduler,
      requestTimeoutMs: requestTimeoutS * 1000,
      connectTimeoutMs: connectTimeoutS * 1000,
      onGone: (error) => this.eventsSubject.next({ type: 'disconnected', server, error }),
    });
    this.keys = { target: this.sessions, contended: new ContendedKeys(() => scheduler.now()), ownReleases: new OwnReleases() };
    // No idle timeout bounds a claim and no renewal doubles as a heartbeat: the sessions ping themselves.
    const timing = { renewRatio, heartbeatMs: Infinity, idleTimeoutMs: Infinity };
    this.leaseContext = {
      acquisition: { scheduler, timing, requestTimeoutMs: requestTimeoutS * 1000, dedicatedConnections: false, queuedHeartbeatMs: QUEUED_PING_MS },
      held: { scheduler, wheel: new RenewScheduler(scheduler), fencing },
      emitted: this.onEmitted,
      report: this.onReport,
      registry: this.active,
    };
  }

  /** A typed snapshot of the server's stats (`GET /v1/stats`), one emission. */
  stats(): Observable<Stats> {
    return defer(
      () =>
        new Observable<string>((subscriber) => {
          const { transport } = this;
          const context = { server: transport.server, command: 'stats' };
          const timeoutMs = this.options.requestTimeoutS * 1000;
          return transport.exchange(
            { method: 'GET', path: '/v1/stats' },
            timeoutMs,
            () => new ConnectionError(`stats on ${transport.server}: no answer within requestTimeoutS=${this.options.requestTimeoutS}`, context),
            (error, answer) => {
              if (error !== undefined) subscriber.error(error);
              else if (answer!.status < 200 || answer!.status > 299) subscriber.error(httpError(answer!, context));
              else {
                subscriber.next(answer!.text);
                subscriber.complete();
              }
            },
          );
        }),
    ).pipe(
      map((text) => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProtocolError(`stats on ${this.transport.server}: the answer is no JSON object`, { server: this.transport.server, command: 'stats' });
        return toStats(json as Record<string, unknown>, this.transport.server);
      }),
    );
  }

  /**
   * One server, one pair of sessions: every key goes there.
   * @internal
   */
  protected route(): KeyRoute {
    return this.keys;
  }

  /**
   * Deletes both sessions (the server drops what they still hold or queue); each delete is bounded by `requestTimeoutS`.
   * @internal
   */
  protected closeTransport(): Promise<void> {
    return this.sessions.close(true);
  }
}
