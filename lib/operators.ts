import { ObservableInput, OperatorFunction, connect, dematerialize, filter, map, materialize, merge, switchMap, take } from 'rxjs';
import { LeaseLostError } from './errors.js';
import type { AcquiredEvent, LockEvent, LostEvent } from './lease/events.js';

/**
 * Runs `project` while the lease is held. When the lease is lost, `project`'s subscription is
 * torn down and the stream errors with {@link LeaseLostError}; when `project` completes, the
 * stream completes — and so unsubscribes from the lease, which releases it. A throw inside
 * `project` errors the stream with that error (and releases the lease).
 *
 * @example
 * ```ts
 * client.lock('reports').pipe(whileHeld(() => interval(1000).pipe(take(5)))).subscribe({ error: console.error });
 * ```
 */
export function whileHeld<T>(project: (lease: AcquiredEvent) => ObservableInput<T>): OperatorFunction<LockEvent, T> {
  return (source) =>
    source.pipe(
      // One subscription to the lease, seen by both branches; `connect` subscribes the branches
      // first, so a source that emits synchronously is seen too.
      connect((events) =>
        merge(
          // The work: materialized, so that its completion ends the merge (and so the lease)
          // while the lease branch, which completes only with the lease, is still open.
          events.pipe(
            filter((event): event is AcquiredEvent => event.type === 'acquired'),
            take(1),
            switchMap(project),
            materialize(),
          ),
          // The lease: `lost` becomes the error that tears the work down.
          events.pipe(
            filter((event): event is LostEvent => event.type === 'lost'),
            map((event): never => {
              throw leaseLost(event);
            }),
          ),
        ),
      ),
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
