/**
 * One timer for many leases: wake-ups are rounded up to a {@link SLOT_MS} grid and every lease
 * due in a slot runs in the same callback, so their renewals are written together (one write
 * per connection, joined by the socket's end-of-tick write) instead of one timer, one write and
 * one reply wake-up per lease. The pings of queued two-phase acquisitions ride it too.
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { swapRemove } from '../swap-remove.js';

export const SLOT_MS = 25;

/**
 * One callback waiting on a {@link RenewScheduler}. Each slot keeps its calls in an array and a
 * call knows its place in it, so scheduling and cancelling are a push and a swap: no set to
 * grow, shrink and rehash as the leases of a busy key come and go many times a millisecond.
 */
export class ScheduledCall {
  constructor(
    /** @internal */ readonly callback: () => void,
    /** @internal */ public calls: ScheduledCall[] | undefined,
    /** @internal */ public index: number,
  ) {}

  /** Takes the call off the wheel; nothing happens if it already ran or was cancelled. */
  cancel(): void {
    const calls = this.calls;
    if (calls === undefined) return;
    this.calls = undefined;
    const moved = swapRemove(calls, this.index);
    if (moved !== undefined) moved.index = this.index;
  }
}

/** A batched timer wheel keyed by slot; one per client, on the client's scheduler (renewals and two-phase pings). */
export class RenewScheduler {
  private readonly slots = new Map<number, ScheduledCall[]>();
  private timer: Subscription | undefined;
  private armedSlot = Number.POSITIVE_INFINITY;

  constructor(private readonly scheduler: SchedulerLike) {}

  /** Callbacks waiting (each a lease's next renewal or an acquisition's safety timer). */
  get size(): number {
    let n = 0;
    for (const calls of this.slots.values()) n += calls.length;
    return n;
  }

  /** Runs `callback` at or up to SLOT_MS after `at`; cancel it with the returned call's `cancel()`. */
  schedule(at: number, callback: () => void): ScheduledCall {
    const slot = Math.ceil(at / SLOT_MS);
    let calls = this.slots.get(slot);
    if (calls === undefined) {
      calls = [];
      this.slots.set(slot, calls);
    }
    const call = new ScheduledCall(callback, calls, calls.length);
    calls.push(call);
    if (slot < this.armedSlot) this.arm(slot);
    return call;
  }

  private arm(slot: number): void {
    this.timer?.unsubscribe();
    this.armedSlot = slot;
    this.timer = this.scheduler.schedule(() => this.fire(), Math.max(0, slot * SLOT_MS - this.scheduler.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedSlot = Number.POSITIVE_INFINITY;
    const now = this.scheduler.now();
    const due: ScheduledCall[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [slot, calls] of this.slots) {
      if (slot * SLOT_MS <= now) {
        for (const call of calls) {
          // Off the wheel before any callback runs: cancelling it from another callback is a no-op.
          call.calls = undefined;
          due.push(call);
        }
        this.slots.delete(slot);
      } else if (calls.length > 0) next = Math.min(next, slot);
      else this.slots.delete(slot);
    }
    for (const call of due) call.callback();
    if (next < this.armedSlot) this.arm(next);
  }
}
