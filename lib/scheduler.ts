/**
 * The client's time source: an RxJS `SchedulerLike` whose `now()` is monotonic and whose timers
 * never keep a process alive. Platform-neutral (timers and `performance` only).
 *
 * @module
 */
import { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

// Read once: `globalThis.performance` is an accessor in Node, run on every read otherwise.
const perf: { now(): number } = globalThis.performance ?? Date;

/** Lets a timer handle stop holding the process open where the runtime can (Node, Bun). */
function unref(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}

class MonotonicAction<T> extends Subscription implements SchedulerAction<T> {
  private handle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly work: (this: SchedulerAction<T>, state?: T) => void) {
    super(() => clearTimeout(this.handle));
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    clearTimeout(this.handle);
    this.handle = setTimeout(() => {
      this.handle = undefined;
      this.work.call(this, state);
    }, Math.max(0, delay));
    unref(this.handle);
    return this;
  }
}

/**
 * The default scheduler of {@link DflockdClient}: `asyncScheduler`'s contract with two changes a
 * lock client needs. `now()` is monotonic (`performance.now()`), so a wall-clock step never moves
 * a lease deadline; and its timers are unreferenced, so no renewal or watchdog timer keeps Node
 * alive — a socket that matters (a held lease, a request in flight) does that instead.
 *
 * Pass `TestScheduler`/`VirtualTimeScheduler` as `ClientOptions.scheduler` to run leases on
 * virtual time.
 */
export const monotonicScheduler: SchedulerLike = Object.freeze({
  now: (): number => perf.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new MonotonicAction(work).schedule(state, delay);
  },
});

/** Runs `callback` after `delayMs` on `scheduler`; unsubscribe the result to cancel it. */
export function after(scheduler: SchedulerLike, delayMs: number, callback: () => void): Subscription {
  return scheduler.schedule(callback, Math.max(0, delayMs));
}
