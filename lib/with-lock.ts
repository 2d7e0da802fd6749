import { Observable, ObservableInput, Subscription, from, fromEvent, lastValueFrom, takeUntil } from 'rxjs';
import { LeaseLostError } from './errors.js';
import type { AcquiredEvent, LockEvent, LostEvent } from './lease/events.js';

/** The work run under a lock: gets an AbortSignal (aborted on lease loss) and the lease. */
export type WithLockWork<T> = (signal: AbortSignal, lease: AcquiredEvent) => Promise<T> | ObservableInput<T>;

/** How a lease stream reports its release: the hook of `client.acquisition()`. */
export interface ReleaseObserver {
  released(ok: boolean): void;
}

/**
 * Subscribes to a lease stream, runs `work` once acquired, and releases (unsubscribes) when it
 * settles; settles itself once the release was answered, so the key is free for the next
 * holder when it does. `signal` gives the acquisition up while it waits, and aborts the work's
 * signal once it runs; a lost lease aborts it too. See {@link runWork} for how the work settles.
 */
export function runWithLock<T>(acquire: (observer: ReleaseObserver) => Observable<LockEvent>, work: WithLockWork<T>, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    const lease = new Subscription();
    let running = false;
    let holding = false;
    let answered: (() => void) | undefined;
    const onAbort = (): void => {
      if (running) controller.abort(signal!.reason);
      else end(() => reject(signal!.reason));
    };
    // Releasing is unsubscribing: synchronous, never throws (failures go to events$), so
    // nothing it does can mask the work's own outcome.
    const end = (settle: () => void): void => {
      signal?.removeEventListener('abort', onAbort);
      if (!holding) {
        lease.unsubscribe();
        settle();
        return;
      }
      answered = settle;
      lease.unsubscribe();
    };
    const observer: ReleaseObserver = {
      released: () => {
        const settle = answered;
        answered = undefined;
        settle?.();
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // Added, not assigned: a stream that fails synchronously has ended `lease` already, and
    // adding to an ended Subscription unsubscribes at once.
    lease.add(
      acquire(observer).subscribe({
        next: (event) => {
          if (event.type === 'acquired' && !running) {
            running = true;
            holding = true;
            runWork(work, controller.signal, event).then(
              (value) => end(() => resolve(value)),
              (error: unknown) => end(() => reject(error)),
            );
          } else if (event.type === 'lost') {
            // Nothing more to release (a release the loss itself sends is not waited for).
            holding = false;
            controller.abort(leaseLostUnder(event));
          }
        },
        error: (error: unknown) => end(() => reject(error)),
      }),
    );
  });
}

/**
 * Runs `work` and settles like `lastValueFrom(from(result), { defaultValue: undefined })`: a
 * Promise gives its value, an Observable or an array its last value, an empty one `undefined`.
 * An Observable work is torn down when `signal` aborts; a Promise is waited for (it cannot be
 * stopped from outside). Work that succeeded after `signal` aborted rejects with the abort
 * reason: it may have overlapped another holder. An error from the work is its own.
 */
export async function runWork<T>(work: WithLockWork<T>, signal: AbortSignal, lease: AcquiredEvent): Promise<T> {
  const out = work(signal, lease);
  const values = isPromiseLike(out) ? from(out) : from(out).pipe(takeUntil(fromEvent(signal, 'abort')));
  const value = await lastValueFrom(values, { defaultValue: undefined });
  if (signal.aborted) throw signal.reason;
  return value as T;
}

/** The error a work under a lost lease is aborted with. */
export function leaseLostUnder(event: LostEvent): LeaseLostError {
  return new LeaseLostError(`key "${event.key}": the lease was lost (${event.reason}) while work was running under it`, {
    key: event.key,
    reason: event.reason,
    cause: event.error,
  });
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<T>).then === 'function';
}
