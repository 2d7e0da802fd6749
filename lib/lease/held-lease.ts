import type { SchedulerLike, Subscription } from 'rxjs';
import { ConnectionError, DflockdError } from '../errors.js';
import { checkedAlready as wire } from '../protocol/commands.js';
import { fenceOf } from '../protocol/fence.js';
import type { Granted } from './acquisition.js';
import type { LockEvent, LostReason } from './events.js';
import type { LeaseLink, LinkHolder } from './lease-link.js';
import { LeaseEffect, LeaseInput, LeaseState, LeaseStep, LeaseTiming, leaseStep, startLease } from './lease-machine.js';
import type { RenewScheduler, ScheduledCall } from './renew-scheduler.js';

/** Who a {@link HeldLease} reports to. */
export interface HeldLeaseOwner {
  /** A lease event (`acquired`, `renewed`, `lost`) for the subscriber and the client's `events$`. */
  emit(event: LockEvent): void;
  /** The lease ended (`lost` was emitted): the stream completes. */
  complete(): void;
  /** Write `r` for `token` on `conn` now (the owner accounts for it and reports its outcome). */
  releasing(key: string, conn: LeaseLink, token: string): void;
}

/** What the held leases of one client share. */
export interface HeldLeaseSettings {
  readonly scheduler: SchedulerLike;
  /** The client's batched timer for renewals. */
  readonly wheel: RenewScheduler;
  /** `acquired` and `renewed` carry the token's fence (ClientOptions.fencing). */
  readonly fencing: boolean;
}

const RELEASE: LeaseInput = Object.freeze({ type: 'release' });

/**
 * Drives the pure lease machine ({@link startLease}, {@link leaseStep}) for one granted lease: it
 * carries out the machine's effects — renewals on the lease's connection, the exact deadline
 * timer, the release — and feeds it replies and clock ticks. The lease lives on its connection
 * (a {@link LinkHolder}): only that connection's failure, decided by the connection, loses
 * it as `'disconnected'`; the lease's own deadline loses it alone and writes its `r`.
 */
export class HeldLease implements LinkHolder {
  private state: LeaseState;
  private readonly conn: LeaseLink;
  /** The first step, until {@link start} carries it out. */
  private first: LeaseStep | undefined;
  /** The exact deadline timer (while a renewal is in flight). */
  private deadlineTimer: Subscription | undefined;
  /** The renewal batched on the client's timer wheel (while held). */
  private renewal: ScheduledCall | undefined;
  /** Bumped by every step that does something; lets a step notice a nested one. */
  private generation = 0;
  /** Kept by the connection the lease lives on. */
  holderIndex = -1;

  constructor(
    private readonly owner: HeldLeaseOwner,
    private readonly settings: HeldLeaseSettings,
    private readonly key: string,
    private readonly semaphore: boolean,
    private readonly timing: LeaseTiming,
    grant: Granted,
  ) {
    this.conn = grant.conn;
    this.first = startLease(key, { token: grant.token, leaseS: grant.leaseS, sentAt: grant.sentAt, now: settings.scheduler.now() }, timing);
    this.state = this.first.state;
  }

  /**
   * Emits `acquired` and arms the first wake-up. Separate from the constructor: the subscriber may
   * unsubscribe inside that emission, and must find this lease to release.
   */
  start(): void {
    const first = this.first!;
    this.first = undefined;
    // Held before anything is emitted: the connection's loss is ours from this moment (the
    // grant's connection is open: the owner checks that before starting the lease).
    this.conn.hold(this);
    this.apply(first);
  }

  /** True while the lease is held (renewing or not). */
  get live(): boolean {
    return this.state.phase === 'held' || this.state.phase === 'renewing';
  }

  /** The subscriber left: `r` is written (after any renewal in flight), nothing more is emitted. */
  release(): void {
    this.dispatch(RELEASE);
  }

  /** The client is closing: `r` is written and `lost` (`'disconnected'`) emitted. */
  shutdown(error: DflockdError): void {
    this.dispatch({ type: 'shutdown', error });
  }

  /** From the connection the lease lives on: it is gone, and so is the lease. */
  connectionClosed(error: DflockdError): void {
    this.dispatch({ type: 'disconnected', reason: reasonOf(error), error });
  }

  private dispatch(input: LeaseInput): void {
    const state = this.state;
    if (state.phase !== 'held' && state.phase !== 'renewing') return;
    this.apply(leaseStep(this.key, state, input, this.timing));
  }

  private apply(step: LeaseStep): void {
    this.state = step.state;
    if (!this.live) this.conn.unhold(this);
    const effects = step.effects;
    if (effects.length === 0) return;
    const mine = ++this.generation;
    for (let i = 0; i < effects.length; i++) {
      // A subscriber that unsubscribes from inside `next` (take(1), firstValueFrom, …) runs a
      // nested release step; what is left of this step is stale: its renewal would follow the
      // `r` and its timer would outlive the stream.
      if (this.generation !== mine) return;
      this.run(effects[i]!);
    }
  }

  private run(effect: LeaseEffect): void {
    switch (effect.type) {
      case 'emit': {
        const event = effect.event;
        this.owner.emit(this.settings.fencing && (event.type === 'acquired' || event.type === 'renewed') ? { ...event, fence: fenceOf(event.token) } : event);
        return;
      }
      case 'schedule':
        this.cancelTimers();
        if (this.state.phase === 'held') {
          // A renewal: batched with the other leases due in the same slot.
          this.renewal = this.settings.wheel.schedule(effect.at, this.tick);
        } else if (this.state.phase === 'renewing') {
          // A deadline: exact, `lost` must never come late.
          this.deadlineTimer = this.settings.scheduler.schedule(this.tick, Math.max(0, effect.at - this.settings.scheduler.now()));
        }
        return;
      case 'cancel-timer':
        this.cancelTimers();
        return;
      case 'send-renew':
        this.conn.send(wire.renew(this.key, effect.token, effect.leaseS, this.semaphore), (error, reply) => {
          if (error !== undefined) this.dispatch({ type: 'renew-failed', reason: reasonOf(error), error });
          else if (reply?.kind === 'renewed') this.dispatch({ type: 'renew-ok', leaseS: reply.leaseS, now: this.settings.scheduler.now() });
        });
        return;
      case 'send-release':
        this.owner.releasing(this.key, this.conn, effect.token);
        return;
      case 'complete':
        this.owner.complete();
        return;
    }
  }

  /** A wake-up from a timer (an arrow: one function per lease, not one per wake-up). */
  private readonly tick = (): void => {
    this.renewal = undefined;
    this.deadlineTimer = undefined;
    this.dispatch({ type: 'tick', now: this.settings.scheduler.now() });
  };

  private cancelTimers(): void {
    this.deadlineTimer?.unsubscribe();
    this.deadlineTimer = undefined;
    this.renewal?.cancel();
    this.renewal = undefined;
  }
}

/** Why a failure ends a lease: the server draining, the connection gone, or the lease itself. */
export function reasonOf(error: DflockdError): LostReason {
  if (error.code === 'error_draining') return 'server-shutdown';
  if (error instanceof ConnectionError || error.code === 'PROTOCOL_ERROR') return 'disconnected';
  return 'expired';
}
