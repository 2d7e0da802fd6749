import type { Subscription } from 'rxjs';
import type { AcquiredEvent } from '../lease/events.js';

/** A lock held through `DistributedLock.hold()`: released at the end of an `await using` scope. */
export interface HeldLock extends AsyncDisposable {
  readonly key: string;
  readonly token: string;
  /** Lease length in seconds (updated by renewals). */
  readonly lease: number;
  /** Aborted (with a LeaseLostError) when the lease is lost. */
  readonly signal: AbortSignal;
  /** Releases the lock; true when the server confirmed it. Once: later calls give the same answer. */
  release(): Promise<boolean>;
}

/** One acquisition of a facade lock: its stream, and who waits for its release to be answered. */
export interface Attempt {
  subscription: Subscription | undefined;
  releaseAnswered: ((ok: boolean) => void) | undefined;
  /** Aborted when the lease is lost. */
  readonly lost: AbortController;
  /** The grant, once held. */
  acquired: AcquiredEvent | undefined;
  /** Starts the two-phase wait, once enqueue() was queued. */
  startWait: ((timeoutS: number) => void) | undefined;
}

/** The handle of a held acquisition; `lock` tells its live lease and releases it. */
export function heldLock(attempt: Attempt, lock: { lease(): number; release(): Promise<boolean> }): HeldLock {
  const grant = attempt.acquired!;
  let released: Promise<boolean> | undefined;
  const release = (): Promise<boolean> => (released ??= lock.release());
  return {
    key: grant.key,
    token: grant.token,
    get lease() {
      return lock.lease();
    },
    signal: attempt.lost.signal,
    release,
    [Symbol.asyncDispose]: async () => {
      await release();
    },
  };
}
