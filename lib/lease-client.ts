/**
 * What the TCP `DflockdClient` and the HTTP `DflockdHttpClient` share: the cold lease Observables
 * (`lock`, `semaphore`, `withLock`), the events, the running acquisitions and the close sequence.
 * Each subclass says only where a key's requests go and how its transport ends. Transport-free.
 *
 * @module
 */
import { Observable, SchedulerLike, Subject, filter } from 'rxjs';
import { ConnectionError, DflockdError } from './errors.js';
import type { LockEvent, LostEvent } from './lease/events.js';
import type { ContendedKeys } from './lease/contended-keys.js';
import type { LeaseTarget } from './lease/lease-link.js';
import { LeaseContext, LeaseRegistry, LeaseReport, TwoPhaseControl, runLease } from './lease/lease-stream.js';
import type { OwnReleases } from './lease/own-releases.js';
import type { ClientEvent, LockClient } from './lock-client.js';
import { LockOptions, ResolvedLockOptions, resolveLockOptions } from './lock-options.js';
import { checkInteger, checkKey } from './protocol/validate.js';
import { WithLockWork, runWithLock } from './with-lock.js';

/**
 * Where one key's requests go: its server's connections (or sessions) and that server's key state.
 * @internal
 */
export interface KeyRoute {
  readonly target: LeaseTarget;
  readonly contended: ContendedKeys;
  readonly ownReleases: OwnReleases;
}

/**
 * The base of both clients, `DflockdClient` (TCP) and `DflockdHttpClient` (HTTP): everything they
 * do alike. Construct one of those; this class only says what they share.
 */
export abstract class LeaseClient implements AsyncDisposable, LockClient {
  /** The validated options in force (those this base reads; each client has more). */
  abstract readonly options: { readonly renewRatio: number; readonly connectTimeoutS: number; readonly scheduler: SchedulerLike };
  /**
   * Events of the transport (connected, disconnected) and of every acquisition.
   * @internal
   */
  protected readonly eventsSubject = new Subject<ClientEvent>();
  /** Releases written and not yet answered, and who waits for them all to be (close()). */
  private releasesInFlight = 0;
  private readonly releasesDrained: Array<() => void> = [];
  /**
   * The running acquisitions (the subclass puts it in its lease context): close() ends them.
   * @internal
   */
  protected readonly active = new LeaseRegistry();
  private closing: Promise<void> | undefined;

  /**
   * Hot stream of everything: connections (or sessions) opened and closed, and per key acquired,
   * renewed, lost, released, release failures.
   */
  readonly events$: Observable<ClientEvent> = this.eventsSubject.asObservable();

  /** The `lost` subset of {@link events$}: every lease this client lost while it was wanted. */
  readonly lost$: Observable<LostEvent & { readonly server: string }> = this.events$.pipe(
    filter((e): e is LostEvent & { readonly server: string } => e.type === 'lost'),
  );

  /**
   * What every acquisition of this client shares (built by the subclass's constructor).
   * @internal
   */
  protected abstract readonly leaseContext: LeaseContext;

  /**
   * Where `key`'s requests go; throws an InvalidArgumentError for a strategy that misbehaves.
   * @internal
   */
  protected abstract route(key: string): KeyRoute;

  /**
   * Ends the transport once the releases were answered (or their bound passed).
   * @internal
   */
  protected abstract closeTransport(): Promise<void> | void;

  /**
   * The class users construct, named in the error of an acquisition after close().
   * @internal
   */
  protected abstract readonly className: string;

  /**
   * A cold Observable acquiring `key` as a lock on subscribe: `queued` (only if the server queued
   * it), `acquired`, `renewed` …, and `lost` if the lease ends while subscribed. Unsubscribing
   * releases in every phase. Acquire failures are errors (`AcquireTimeoutError`, `AuthError`,
   * `ConnectionError`, …), never events.
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

  /**
   * Releases everything still held, ends the transport, and resolves when the releases were
   * acknowledged (or their connections are gone; at most `connectTimeoutS`). Later acquisitions fail.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const lease of this.active.snapshot()) lease.shutdown();
      // A stalled server must not make close() hang: releases get connectTimeoutS to be acknowledged.
      let timer: { unsubscribe(): void } | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = this.options.scheduler.schedule(() => resolve(), this.options.connectTimeoutS * 1000);
      });
      const drained = new Promise<void>((resolve) => (this.releasesInFlight === 0 ? resolve() : this.releasesDrained.push(resolve)));
      this.closing = Promise.race([drained, bound])
        .then(() => {
          timer?.unsubscribe();
          return this.closeTransport();
        })
        .then(() => this.eventsSubject.complete());
    }
    return this.closing;
  }

  /** Same as {@link close}, for `await using client = …`. */
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
        subscriber.error(new ConnectionError(`key "${String(key)}": the client is closed; create a new ${this.className}`, { key: String(key) }));
        return undefined;
      }
      let route: KeyRoute;
      let resolved: ResolvedLockOptions;
      try {
        checkKey(key);
        if (limit !== undefined) checkInteger(limit, 'limit', 1);
        resolved = resolveLockOptions(options, this.options);
        route = this.route(key);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const released = observer === undefined ? undefined : (ok: boolean, error?: DflockdError): void => observer.released(ok, error);
      return runLease(subscriber, this.leaseContext, {
        key,
        limit,
        options: resolved,
        pool: route.target,
        contended: route.contended,
        ownReleases: route.ownReleases,
        twoPhase,
        released,
      });
    });
  }

  /**
   * Where every acquisition's events go besides its subscriber (an arrow: one function for all of them).
   * @internal
   */
  protected readonly onEmitted = (event: LockEvent, server: string): void => {
    // Skip building the event when nobody listens (the common case on a hot path).
    if (this.eventsSubject.observed) this.eventsSubject.next(withServer(event, server));
  };

  /**
   * Where every acquisition reports (an arrow: one function for all of them, not one each).
   * @internal
   */
  protected readonly onReport = (report: LeaseReport): void => {
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
