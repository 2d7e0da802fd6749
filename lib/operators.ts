import { ObservableInput, OperatorFunction, dematerialize, filter, from, materialize, switchMap, throwError } from 'rxjs';
import { LeaseLostError } from './errors.js';
import type { AcquiredEvent, LockEvent, LostEvent } from './lease/events.js';

/**
 * Runs `project` while the lease is held. When the lease is lost, `project`'s subscription is
 * torn down and then the stream errors with {@link LeaseLostError}; when `project` completes,
 * the stream completes — and so unsubscribes from the lease, which releases it. A throw inside
 * `project`, or an error from what it returns, errors the stream (and releases the lease).
 *
 * @example
 * ```ts
 * client.lock('reports').pipe(whileHeld(() => interval(1000).pipe(take(5)))).subscribe({ error: console.error });
 * ```
 */
export function whileHeld<T>(project: (lease: AcquiredEvent) => ObservableInput<T>): OperatorFunction<LockEvent, T> {
  return (source) =>
    source.pipe(
      filter((event): event is AcquiredEvent | LostEvent => event.type === 'acquired' || event.type === 'lost'),
      // `lost` switches away from the work — unsubscribing it first — to the error. The work is
      // materialized so that its completion reaches dematerialize() and ends the stream (and so
      // the lease) although the lease stream itself goes on.
      switchMap((event) => (event.type === 'acquired' ? from(project(event)).pipe(materialize()) : throwError(() => leaseLost(event)))),
      dematerialize(),
    );
}

function leaseLost(event: LostEvent): LeaseLostError {
  return new LeaseLostError(`key "${event.key}": the lease was lost (${event.reason}); the work under it was stopped`, {
    key: event.key,
    reason: event.reason,
    cause: event.error,
  });
}
