import { checkInteger } from '../protocol/validate.js';
import { DistributedLock } from './distributed-lock.js';
import type { DistributedLockOptions } from './options.js';

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
  /** How many holders the semaphore admits at once. */
  readonly limit: number;

  /** @throws InvalidArgumentError naming the bad argument. */
  constructor(key: string, limit: number, options: DistributedLockOptions = {}) {
    super(key, options);
    this.limit = checkInteger(limit, 'limit', 1);
  }

  /** @internal */
  protected override get className(): string {
    return 'DistributedSemaphore';
  }

  protected override slotLimit(): number {
    return this.limit;
  }
}
