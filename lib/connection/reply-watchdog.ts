import type { SchedulerLike, Subscription } from 'rxjs';

/**
 * The one timer of a connection: it watches the request at the head of the reply FIFO (replies
 * come strictly in order, so only the head can be late) and calls `onLate` once that request
 * has gone unanswered past its deadline. The deadline is set when a request becomes the head;
 * a timer already due earlier is kept and re-checks when it fires, so a busy connection does
 * not re-arm a timer per reply. No timer is left when nothing is pending.
 *
 * @internal
 */
export class ReplyWatchdog {
  /** When the current head is late; `Infinity` when nothing is pending. */
  private deadline = Infinity;
  private action: Subscription | undefined;
  /** When {@link action} fires. */
  private actionAt = Infinity;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly onLate: () => void,
  ) {}

  /** A new head is due by `deadline` (scheduler ms). */
  watch(deadline: number, now: number): void {
    this.deadline = deadline;
    if (this.action !== undefined) {
      if (this.actionAt <= deadline) return;
      this.action.unsubscribe();
    }
    this.arm(deadline - now, now);
  }

  /** Nothing is pending: no timer. */
  idle(): void {
    this.deadline = Infinity;
    this.stop();
  }

  /** Stops for good (the connection is done). */
  stop(): void {
    this.action?.unsubscribe();
    this.action = undefined;
    this.actionAt = Infinity;
  }

  private arm(delay: number, now: number): void {
    const ms = Math.max(0, delay);
    this.actionAt = now + ms;
    this.action = this.scheduler.schedule(this.fire, ms);
  }

  private readonly fire = (): void => {
    this.action = undefined;
    this.actionAt = Infinity;
    if (this.deadline === Infinity) return;
    const now = this.scheduler.now();
    if (now >= this.deadline) this.onLate();
    else this.arm(this.deadline - now, now);
  };
}
