/**
 * The FIFO of waiters of one key: O(1) append, take-first and removal from the
 * middle (a waiter that times out or disconnects leaves without a scan).
 *
 * @module
 */

/**
 * One queued request for a slot: a blocked `l`/`sl`, or a two-phase `e`/`se`
 * that may be granted while its connection is not waiting yet.
 */
export class Waiter {
  /** Set by the grant; a two-phase waiter keeps it until its `w` collects it. */
  token: string | null = null;
  /** Called on grant when a request is blocked on this waiter; null otherwise. */
  onGrant: ((token: string) => void) | null = null;
  /** @internal */ prev: Waiter | null = null;
  /** @internal */ next: Waiter | null = null;
  /** @internal */ queued = false;

  constructor(
    readonly connId: number,
    readonly leaseMs: number,
  ) {}
}

/** Intrusive doubly-linked FIFO of {@link Waiter}s. */
export class WaiterQueue {
  private head: Waiter | null = null;
  private tail: Waiter | null = null;
  private count = 0;

  /** Number of waiters queued. */
  get size(): number {
    return this.count;
  }

  /** Appends at the back. */
  push(w: Waiter): void {
    w.prev = this.tail;
    w.next = null;
    if (this.tail) this.tail.next = w;
    else this.head = w;
    this.tail = w;
    w.queued = true;
    this.count++;
  }

  /** Removes and returns the front waiter. */
  shift(): Waiter | null {
    const w = this.head;
    if (w) this.remove(w);
    return w;
  }

  /** Removes `w` if it is still queued; a no-op otherwise. */
  remove(w: Waiter): void {
    if (!w.queued) return;
    if (w.prev) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = w.next = null;
    w.queued = false;
    this.count--;
  }
}
