/**
 * One timer for many leases: wake-ups are rounded up to a {@link SLOT_MS} grid and every lease
 * due in a slot runs in the same callback, so their renewals are written together (one write
 * per connection, joined by the socket's end-of-tick write) instead of one timer, one write and
 * one reply wake-up per lease. The acquire safety timers of the client ride it too.
 */
export const SLOT_MS = 25;

/** A batched timer wheel keyed by slot; one per client, on the client's clock (renewals and acquire timers). */
export class RenewScheduler {
  private readonly slots = new Map<number, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private armedSlot = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number) {}

  /** Callbacks waiting (each a lease's next renewal). */
  get size(): number {
    let n = 0;
    for (const set of this.slots.values()) n += set.size;
    return n;
  }

  /** Runs `callback` at or up to SLOT_MS after `at`; returns its cancellation. */
  schedule(at: number, callback: () => void): () => void {
    const slot = Math.ceil(at / SLOT_MS);
    let set = this.slots.get(slot);
    if (set === undefined) {
      set = new Set();
      this.slots.set(slot, set);
    }
    set.add(callback);
    if (slot < this.armedSlot) this.arm(slot);
    const owner = set;
    return () => {
      owner.delete(callback);
    };
  }

  private arm(slot: number): void {
    clearTimeout(this.timer);
    this.armedSlot = slot;
    this.timer = setTimeout(() => this.fire(), Math.max(0, slot * SLOT_MS - this.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedSlot = Number.POSITIVE_INFINITY;
    const now = this.now();
    const due: (() => void)[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [slot, set] of this.slots) {
      if (slot * SLOT_MS <= now) {
        for (const callback of set) due.push(callback);
        this.slots.delete(slot);
      } else if (set.size > 0) next = Math.min(next, slot);
      else this.slots.delete(slot);
    }
    for (const callback of due) callback();
    if (next < this.armedSlot) this.arm(next);
  }
}
