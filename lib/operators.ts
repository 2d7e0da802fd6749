import { Observable, ObservableInput, OperatorFunction, from } from 'rxjs';
import { LeaseLostError } from './errors.js';
import type { AcquiredEvent, LockEvent } from './lease/events.js';

/**
 * Runs `project` while the lease is held. When the lease is lost, `project`'s subscription is
 * torn down and the stream errors with {@link LeaseLostError}; when `project` completes, the
 * stream completes — and so unsubscribes from the lease, which releases it.
 *
 * @example
 * ```ts
 * client.lock('reports').pipe(whileHeld(() => interval(1000).pipe(take(5)))).subscribe();
 * ```
 */
export function whileHeld<T>(project: (lease: AcquiredEvent) => ObservableInput<T>): OperatorFunction<LockEvent, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      const outer = source.subscribe({
        next: (event) => {
          if (event.type === 'acquired' && inner === undefined) {
            inner = from(project(event)).subscribe({
              next: (value) => subscriber.next(value),
              error: (error: unknown) => subscriber.error(error),
              complete: () => subscriber.complete(),
            });
          } else if (event.type === 'lost') {
            inner?.unsubscribe();
            subscriber.error(new LeaseLostError(`key "${event.key}": the lease was lost (${event.reason})`, { key: event.key, reason: event.reason, cause: event.error }));
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        inner?.unsubscribe();
        outer.unsubscribe();
      };
    });
}
