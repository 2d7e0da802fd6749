import { Observable, ObservableInput, firstValueFrom, from, isObservable, lastValueFrom } from 'rxjs';
import { LeaseLostError } from './errors.js';
import type { AcquiredEvent, LockEvent } from './lease/events.js';

/** The work run under a lock: gets an AbortSignal (aborted on lease loss) and the lease. */
export type WithLockWork<T> = (signal: AbortSignal, lease: AcquiredEvent) => Promise<T> | ObservableInput<T>;

/**
 * Subscribes to a lease stream, runs `work` once acquired, and releases when it settles.
 * The work's own error wins over anything the release does; a lease lost mid-work aborts
 * the signal and, if the work then resolves, rejects with {@link LeaseLostError}.
 */
export function runWithLock<T>(lease$: Observable<LockEvent>, work: WithLockWork<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    let started = false;
    let lostError: LeaseLostError | undefined;
    const subscription = lease$.subscribe({
      next: (event) => {
        if (event.type === 'acquired' && !started) {
          started = true;
          let result: Promise<T>;
          try {
            result = settle(work(controller.signal, event));
          } catch (error) {
            result = Promise.reject(error);
          }
          result.then(
            (value) => {
              subscription.unsubscribe();
              if (lostError !== undefined) reject(lostError);
              else resolve(value);
            },
            (error: unknown) => {
              subscription.unsubscribe();
              reject(error);
            },
          );
        } else if (event.type === 'lost') {
          lostError = new LeaseLostError(`key "${event.key}": the lease was lost (${event.reason}) while work was running under it`, {
            key: event.key,
            reason: event.reason,
            cause: event.error,
          });
          controller.abort(lostError);
        }
      },
      error: (error: unknown) => reject(error),
    });
  });
}

/** The value of a Promise, or the last value of an Observable (the first of other ObservableInputs). */
export function settle<T>(out: Promise<T> | ObservableInput<T>): Promise<T> {
  if (isPromiseLike<T>(out)) return Promise.resolve(out);
  return isObservable(out) ? lastValueFrom(out as Observable<T>) : firstValueFrom(from(out as ObservableInput<T>));
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<T>).then === 'function';
}
