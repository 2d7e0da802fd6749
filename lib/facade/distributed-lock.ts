import { Observable, Subject, Subscription, filter, firstValueFrom } from 'rxjs';
import { DflockdClient } from '../client.js';
import { AcquireTimeoutError, InvalidArgumentError, InvalidStateError, LeaseLostError, NotEnqueuedError } from '../errors.js';
import type { TwoPhaseControl } from '../lease/lease-stream.js';
import type { AcquiredEvent, LockEvent, LostEvent } from '../lease/events.js';
import { ClientOptions, LockOptions, ResolvedLockOptions, resolveClientOptions, resolveLockOptions } from '../options.js';
import { checkInteger, checkKey } from '../protocol/validate.js';
import { WithLockWork, settle } from '../with-lock.js';
import { LockClient, isLockClient } from '../lock-client.js';

/** Options of {@link DistributedLock}: every lock option and every client option, or a shared `client`. */
export interface DistributedLockOptions extends LockOptions, ClientOptions {
  /**
   * Share this client (a `DflockdClient`, or a `DflockdHttpClient` from `dflockd-rx/http`) instead
   * of opening a private one. Client options are then ignored.
   */
  readonly client?: LockClient;
}

/** A lock held through {@link DistributedLock.hold}: released at the end of an `await using` scope. */
export interface HeldLock extends AsyncDisposable {
  readonly key: string;
  readonly token: string;
  /** Lease length in seconds (updated by renewals). */
  readonly lease: number;
  /** Aborted when the lease is lost. */
  readonly signal: AbortSignal;
  /** Releases the lock; true when the server confirmed it. */
  release(): Promise<boolean>;
}

type Phase = 'idle' | 'acquiring' | 'enqueued' | 'waiting' | 'held';

/**
 * The Promise API, with the Python client's methods: `acquire`/`release`, two-phase
 * `enqueue`/`wait`, `withLock`, and `hold()` for `await using`. Renewal runs in the background
 * while held. An instance holds at most one lease at a time and can be reused after release.
 *
 * @example
 * ```ts
 * const lock = new DistributedLock('my-key', { acquireTimeoutS: 10 });
 * if (await lock.acquire()) {
 *   try { … } finally { await lock.release(); }
 * }
 * ```
 */
export class DistributedLock implements AsyncDisposable {
  /** The key this lock is for. */
  readonly key: string;
  private readonly lockOptions: ResolvedLockOptions;
  private readonly sharedClient: LockClient | undefined;
  private readonly clientOptions: ClientOptions;
  private ownClient: DflockdClient | undefined;
  private subscription: Subscription | undefined;
  private phase: Phase = 'idle';
  private current: AcquiredEvent | undefined;
  private currentLease: number | null = null;
  private controller = new AbortController();
  private startWait: ((timeoutS: number) => void) | undefined;
  private readonly eventsSubject = new Subject<LockEvent>();

  /** This instance's lease events, across acquisitions (hot). */
  readonly events$: Observable<LockEvent> = this.eventsSubject.asObservable();
  /** The `lost` events of this instance. */
  readonly lost$: Observable<LostEvent> = this.events$.pipe(filter((e): e is LostEvent => e.type === 'lost'));

  /** @throws InvalidArgumentError naming the bad argument; nothing is sent. */
  constructor(key: string, options: DistributedLockOptions = {}, protected readonly limit?: number) {
    this.key = checkKey(key);
    if (options.client !== undefined && !isLockClient(options.client)) throw new InvalidArgumentError('client', 'must be a DflockdClient or a DflockdHttpClient');
    this.sharedClient = options.client;
    const { client: _client, acquireTimeoutS: _t, leaseTtlS: _l, ...clientOptions } = options;
    this.clientOptions = clientOptions;
    const resolvedClient = this.sharedClient?.options ?? resolveClientOptions(clientOptions);
    this.lockOptions = resolveLockOptions(options, resolvedClient);
  }

  /** The token of the current hold, or null. */
  get token(): string | null {
    return this.current?.token ?? null;
  }

  /** The lease length of the current hold in seconds, or null when not held. */
  get lease(): number | null {
    return this.currentLease;
  }

  /** True while the lock is held. */
  get held(): boolean {
    return this.phase === 'held';
  }

  /**
   * Acquires, waiting up to `acquireTimeoutS`: true when held, false on timeout. Other failures
   * reject. Rejects with `INVALID_STATE` if this instance already holds or is acquiring.
   */
  acquire(): Promise<boolean> {
    const refused = this.refuseUnlessIdle<boolean>('acquire()');
    if (refused) return refused;
    this.phase = 'acquiring';
    return new Promise<boolean>((resolve, reject) => this.start(false, { acquired: () => resolve(true), failed: (e) => (e instanceof AcquireTimeoutError ? resolve(false) : reject(e)) }));
  }

  /**
   * Joins the queue without waiting: `'acquired'` if the lock was free (it is now held),
   * `'queued'` otherwise (call {@link wait}). The place is kept alive while you do other work.
   */
  enqueue(): Promise<'acquired' | 'queued'> {
    const refused = this.refuseUnlessIdle<'acquired' | 'queued'>('enqueue()');
    if (refused) return refused;
    this.phase = 'acquiring';
    return new Promise((resolve, reject) =>
      this.start(true, {
        enqueued: (status) => {
          if (status === 'queued') this.phase = 'enqueued';
          resolve(status);
        },
        failed: reject,
      }),
    );
  }

  /**
   * Waits for the place taken by {@link enqueue}: true once held, false on timeout (the place is
   * then lost, as on the server). Resolves true at once when already held.
   * @param timeoutS seconds to wait; defaults to `acquireTimeoutS`.
   */
  wait(timeoutS: number = this.lockOptions.acquireTimeoutS): Promise<boolean> {
    try {
      checkInteger(timeoutS, 'timeoutS', 0);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.phase === 'held') return Promise.resolve(true);
    if (this.phase !== 'enqueued' || this.startWait === undefined) {
      return Promise.reject(new NotEnqueuedError(`key "${this.key}": wait() needs a pending enqueue(); call enqueue() first`, { key: this.key, command: 'w' }));
    }
    this.phase = 'waiting';
    const start = this.startWait;
    this.startWait = undefined;
    return new Promise<boolean>((resolve, reject) => {
      this.waitHooks = { acquired: () => resolve(true), failed: (e) => (e instanceof AcquireTimeoutError ? resolve(false) : reject(e)) };
      start(timeoutS);
    });
  }

  /**
   * Releases the hold (or leaves the queue): true when the server confirmed the release, false
   * when nothing was held or the lease was already gone. Ordered after an in-flight renewal.
   */
  async release(): Promise<boolean> {
    const subscription = this.subscription;
    if (subscription === undefined) {
      this.reset();
      return false;
    }
    const token = this.current?.token;
    const client = this.client();
    const outcome =
      this.phase === 'held' && token !== undefined
        ? firstValueFrom(client.events$.pipe(filter((e) => (e.type === 'released' || e.type === 'release-failed') && e.token === token)), { defaultValue: undefined })
        : Promise.resolve(undefined);
    this.reset();
    subscription.unsubscribe();
    const event = await outcome;
    await this.closeOwnClient();
    return event?.type === 'released';
  }

  /** Acquires (rejecting with AcquireTimeoutError on timeout), runs `work`, releases. `signal` aborts on lease loss. */
  async withLock<T>(work: WithLockWork<T>): Promise<T> {
    const held = await this.hold();
    const lease = this.current!;
    try {
      const value = await settle(work(held.signal, lease));
      // Work that finished after its lease was lost may have overlapped another holder: say so.
      if (held.signal.aborted) throw held.signal.reason;
      return value;
    } finally {
      // release() never rejects, so it cannot mask an error thrown by the work.
      await held.release();
    }
  }

  /**
   * Acquires and returns a handle released at the end of an `await using` scope.
   * @throws AcquireTimeoutError when not acquired within `acquireTimeoutS`.
   * @example
   * ```ts
   * await using held = await new DistributedLock('k').hold();
   * ```
   */
  async hold(): Promise<HeldLock> {
    if (!(await this.acquire())) {
      throw new AcquireTimeoutError(`key "${this.key}": not acquired within acquireTimeoutS=${this.lockOptions.acquireTimeoutS}; raise acquireTimeoutS`, { key: this.key });
    }
    const self = this;
    const token = this.token!;
    const signal = this.controller.signal;
    let released: Promise<boolean> | undefined;
    const release = (): Promise<boolean> => (released ??= self.token === token ? self.release() : Promise.resolve(false));
    return {
      key: this.key,
      token,
      get lease() {
        return self.lease ?? 0;
      },
      signal,
      release,
      [Symbol.asyncDispose]: async () => {
        await release();
      },
    };
  }

  /** Releases whatever this instance holds; for `await using lock = new DistributedLock(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  private waitHooks: { acquired: () => void; failed: (error: unknown) => void } | undefined;

  private start(twoPhase: boolean, hooks: { acquired?: () => void; enqueued?: (s: 'acquired' | 'queued') => void; failed: (error: unknown) => void }): void {
    this.controller = new AbortController();
    const client = this.client();
    const stream = this.stream(
      twoPhase
        ? {
            enqueued: (status) => hooks.enqueued?.(status),
            setWaiter: (start) => (this.startWait = start),
          }
        : undefined,
      client,
    );
    this.subscription = stream.subscribe({
      next: (event) => {
        this.eventsSubject.next(event);
        if (event.type === 'acquired') {
          this.phase = 'held';
          this.current = event;
          this.currentLease = event.leaseS;
          hooks.acquired?.();
          this.waitHooks?.acquired();
          this.waitHooks = undefined;
        } else if (event.type === 'renewed') {
          this.currentLease = event.leaseS;
        } else if (event.type === 'lost') {
          this.controller.abort(new LeaseLostError(`key "${this.key}": the lease was lost (${event.reason})`, { key: this.key, reason: event.reason, cause: event.error }));
        }
      },
      error: (error: unknown) => {
        const waitHooks = this.waitHooks;
        this.reset();
        void this.closeOwnClient();
        (waitHooks ?? hooks).failed(error);
      },
      complete: () => {
        this.reset();
        void this.closeOwnClient();
      },
    });
  }

  private stream(twoPhase: TwoPhaseControl | undefined, client: LockClient): Observable<LockEvent> {
    return client.acquisition(this.key, this.limit, this.lockOptions, twoPhase);
  }

  private reset(): void {
    this.phase = 'idle';
    this.current = undefined;
    this.currentLease = null;
    this.startWait = undefined;
    this.subscription = undefined;
    this.waitHooks = undefined;
  }

  private refuseUnlessIdle<T>(method: string): Promise<T> | undefined {
    if (this.phase === 'idle') return undefined;
    return Promise.reject(new InvalidStateError(`key "${this.key}": ${method} called while ${this.phase}; release() first (an instance holds one lease at a time)`, this.key));
  }

  private client(): LockClient {
    if (this.sharedClient !== undefined) return this.sharedClient;
    this.ownClient ??= new DflockdClient(this.clientOptions);
    return this.ownClient;
  }

  private async closeOwnClient(): Promise<void> {
    const own = this.ownClient;
    if (own === undefined || this.subscription !== undefined) return;
    this.ownClient = undefined;
    await own.close();
  }
}

/**
 * A counting semaphore with the same API as {@link DistributedLock}: up to `limit` holders at once.
 *
 * @example
 * ```ts
 * const sem = new DistributedSemaphore('pool', 3, { acquireTimeoutS: 10 });
 * await sem.withLock(async () => { … });
 * ```
 */
export class DistributedSemaphore extends DistributedLock {
  /** @throws InvalidArgumentError naming the bad argument. */
  constructor(key: string, limit: number, options: DistributedLockOptions = {}) {
    super(key, options, checkInteger(limit, 'limit', 1));
  }
}
