import { Observable, Subject, defer, filter, map } from 'rxjs';
import { ConnectionError, DflockdError, ProtocolError } from '../errors.js';
import type { LockEvent, LostEvent } from '../lease/events.js';
import { LeaseContext, LeaseRegistry, LeaseReport, TwoPhaseControl, runLease } from '../lease/lease-stream.js';
import { ContendedKeys } from '../lease/contended-keys.js';
import { OwnReleases } from '../lease/own-releases.js';
import { RenewScheduler } from '../lease/renew-scheduler.js';
import type { ClientEvent, LockClient } from '../lock-client.js';
import { LockOptions, ResolvedLockOptions, resolveLockOptions } from '../lock-options.js';
import { checkInteger, checkKey } from '../protocol/validate.js';
import { Stats, toStats } from '../protocol/stats.js';
import { WithLockWork, runWithLock } from '../with-lock.js';
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
export class DflockdHttpClient implements AsyncDisposable, LockClient {
  /** The validated options in force. */
  readonly options: ResolvedHttpClientOptions;
  private readonly transport: HttpTransport;
  private readonly sessions: HttpSessions;
  private readonly contended: ContendedKeys;
  private readonly ownReleases = new OwnReleases();
  private readonly eventsSubject = new Subject<ClientEvent>();
  private releasesInFlight = 0;
  private readonly releasesDrained: Array<() => void> = [];
  private readonly active = new LeaseRegistry();
  private closing: Promise<void> | undefined;
  private readonly leaseContext: LeaseContext;

  /** Hot stream of everything: sessions ended, and per key acquired, renewed, lost, released, release failures. */
  readonly events$: Observable<ClientEvent> = this.eventsSubject.asObservable();

  /** The `lost` subset of {@link events$}. */
  readonly lost$: Observable<LostEvent & { readonly server: string }> = this.events$.pipe(
    filter((e): e is LostEvent & { readonly server: string } => e.type === 'lost'),
  );

  /** @throws InvalidArgumentError naming the bad option; nothing is sent until the first subscription. */
  constructor(options: HttpClientOptions) {
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
    this.contended = new ContendedKeys(() => scheduler.now());
    // No idle timeout bounds a claim and no renewal doubles as a heartbeat: the sessions ping themselves.
    const timing = { renewRatio, heartbeatMs: Infinity, idleTimeoutMs: Infinity };
    this.leaseContext = {
      acquisition: { scheduler, timing, requestTimeoutMs: requestTimeoutS * 1000, dedicatedConnections: false, queuedHeartbeatMs: QUEUED_PING_MS },
      held: { scheduler, wheel: new RenewScheduler(scheduler), fencing },
      heartbeatMs: Infinity,
      idleTimeoutMs: Infinity,
      emitted: (event, from) => {
        if (this.eventsSubject.observed) this.eventsSubject.next({ ...event, server: from });
      },
      report: this.onReport,
      registry: this.active,
    };
  }

  /**
   * A cold Observable acquiring `key` as a lock on subscribe: `queued` (only if the server queued
   * it), `acquired`, `renewed` …, and `lost` if the lease ends while subscribed. Unsubscribing
   * releases in every phase. Acquire failures are errors, never events.
   */
  lock(key: string, options?: LockOptions): Observable<LockEvent> {
    return this.acquisition(key, undefined, options);
  }

  /** As {@link lock}, for one of `limit` slots of a counting semaphore. */
  semaphore(key: string, limit: number, options?: LockOptions): Observable<LockEvent> {
    return this.acquisition(key, limit, options);
  }

  /**
   * Acquires `key`, runs `work`, releases, exactly as `DflockdClient.withLock`: settles like
   * `lastValueFrom(from(result), { defaultValue: undefined })`; the work's `signal` aborts when the
   * lease is lost or `options.signal` aborts; an error from `work` is never masked by a release error.
   */
  withLock<T>(key: string, work: WithLockWork<T>, options?: LockOptions & { readonly signal?: AbortSignal }): Promise<T> {
    return runWithLock((observer) => this.acquisition(key, undefined, options, undefined, observer), work, options?.signal);
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
   * Releases everything still held, then deletes both sessions (the server drops what they still
   * hold or queue), and resolves. Bounded: releases get `connectTimeoutS`, each delete `requestTimeoutS`.
   * Later acquisitions fail.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const lease of this.active.snapshot()) lease.shutdown();
      let timer: { unsubscribe(): void } | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = this.options.scheduler.schedule(resolve, this.options.connectTimeoutS * 1000);
      });
      const drained = new Promise<void>((resolve) => (this.releasesInFlight === 0 ? resolve() : this.releasesDrained.push(resolve)));
      this.closing = Promise.race([drained, bound])
        .then(() => {
          timer?.unsubscribe();
          return this.sessions.close(true);
        })
        .then(() => this.eventsSubject.complete());
    }
    return this.closing;
  }

  /** Same as {@link close}, for `await using client = new DflockdHttpClient(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The acquisition behind {@link lock} and {@link semaphore}, and the facade's two-phase mode.
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
        subscriber.error(new ConnectionError(`key "${String(key)}": the client is closed; create a new DflockdHttpClient`, { key: String(key), server: this.transport.server }));
        return undefined;
      }
      let resolved: ResolvedLockOptions;
      try {
        checkKey(key);
        if (limit !== undefined) checkInteger(limit, 'limit', 1);
        resolved = resolveLockOptions(options, this.options);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const released = observer === undefined ? undefined : (ok: boolean, error?: DflockdError): void => observer.released(ok, error);
      return runLease(subscriber, this.leaseContext, { key, limit, options: resolved, pool: this.sessions, contended: this.contended, ownReleases: this.ownReleases, twoPhase, released });
    });
  }

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
