/** What every facade call that waits takes: an AbortSignal, as `fetch` does. */
export interface AbortOptions {
  /** Aborting rejects the call with `signal.reason` (an `AbortError` by default) and gives up the place in the queue. */
  readonly signal?: AbortSignal | undefined;
}

/** What settles a pending call of each kind: the lock held, a timeout, queued (enqueue only). */
export interface CallOutcomes<T> {
  readonly acquired: T;
  /** What an `AcquireTimeoutError` (and `release()`) settles it with; absent: it rejects instead. */
  readonly timeout?: T;
  readonly queued?: T;
}

/** A pending call, whatever it resolves to: how the facade settles it. */
export interface FacadeCall {
  acquired(): void;
  queued(): void;
  failed(error: unknown, isTimeout: boolean): void;
  released(): void;
}

/**
 * One pending facade call (`acquire()`, `enqueue()`, `wait()`, `hold()`): a Promise settled
 * exactly once — by the lease, by its AbortSignal, or by `release()` — so none is left pending.
 */
export class PendingCall<T> implements FacadeCall {
  /** Settles once; later outcomes are ignored. */
  readonly promise: Promise<T>;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: unknown) => void;
  private settled = false;
  private readonly onAbort: (() => void) | undefined;

  /**
   * @param method the call's name, for the error `release()` rejects it with when it has no `false` to give
   * @param aborted called when `signal` aborts, after the call was rejected with `signal.reason`
   */
  constructor(
    private readonly method: string,
    private readonly key: string,
    private readonly outcomes: CallOutcomes<T>,
    private readonly signal: AbortSignal | undefined,
    aborted: () => void,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (signal !== undefined) {
      this.onAbort = () => {
        this.reject(signal.reason);
        aborted();
      };
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** The lock is held (its token set). */
  acquired(): void {
    this.resolve(this.outcomes.acquired);
  }

  /** enqueue() was queued; other calls wait on. */
  queued(): void {
    if (this.outcomes.queued !== undefined) this.resolve(this.outcomes.queued);
  }

  /** The acquisition failed: a timeout is `outcomes.timeout` where the call has one; anything else rejects. */
  failed(error: unknown, isTimeout: boolean): void {
    if (isTimeout && this.outcomes.timeout !== undefined) this.resolve(this.outcomes.timeout);
    else this.reject(error);
  }

  /** `release()` or disposal came first: `false` where the call can say it, an AbortError otherwise. */
  released(): void {
    if (this.outcomes.timeout !== undefined) this.resolve(this.outcomes.timeout);
    else this.reject(new DOMException(`key "${this.key}": release() was called while ${this.method} was pending`, 'AbortError'));
  }

  private resolve(value: T): void {
    if (this.finish()) this.resolveFn(value);
  }

  private reject(error: unknown): void {
    if (this.finish()) this.rejectFn(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort);
    return true;
  }
}
