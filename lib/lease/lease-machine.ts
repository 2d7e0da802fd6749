import type { DflockdError } from '../errors.js';
import type { LockEvent, LostReason } from './events.js';

/**
 * A held lease as a pure state machine: no timers, no I/O. It starts at a grant
 * ({@link startLease}); the driver feeds it inputs (replies, clock ticks) and carries out the
 * effects it returns. Times are monotonic ms. Acquiring is not its job (see `acquisition.ts`).
 *
 * ```
 * grant ─► held ⇄ renewing
 *            │       │
 *            └───────┴─► released | lost
 * ```
 *
 * Only a live state (`held`, `renewing`) has a transition function: an ended lease cannot be
 * stepped, by its type.
 */
export type LeaseState = LiveLease | EndedLease;

/** Held, with or without a renewal in flight: the only states {@link leaseStep} accepts. */
export interface LiveLease {
  readonly phase: 'held' | 'renewing';
  readonly token: string;
  readonly leaseS: number;
  /** `lost` is due at this time unless a renewal lands first. */
  readonly deadline: number;
  /** The next renewal is due at this time (while `held`). */
  readonly renewAt: number;
  /** When the renewal in flight was sent (while `renewing`). */
  readonly renewSentAt: number;
}

/** A lease that has ended: nothing more happens to it. */
export type EndedLease = { readonly phase: 'released' } | { readonly phase: 'lost'; readonly reason: LostReason };

/** A grant: the token, its lease, and when the granting request was written (the lease cannot have started earlier). */
export interface LeaseGrant {
  readonly token: string;
  readonly leaseS: number;
  readonly sentAt: number;
  readonly now: number;
}

/** What the driver reports to the machine about a live lease. */
export type LeaseInput =
  | { readonly type: 'tick'; readonly now: number }
  | { readonly type: 'renew-ok'; readonly leaseS: number; readonly now: number }
  | { readonly type: 'renew-failed'; readonly reason: LostReason; readonly error: DflockdError }
  | { readonly type: 'disconnected'; readonly reason: LostReason; readonly error: DflockdError }
  | { readonly type: 'release' }
  /** The client is closing: release the lock, and tell the subscriber it no longer holds it. */
  | { readonly type: 'shutdown'; readonly error: DflockdError };

/** What the machine asks the driver to do, in order. */
export type LeaseEffect =
  | { readonly type: 'emit'; readonly event: LockEvent }
  | { readonly type: 'send-renew'; readonly token: string; readonly leaseS: number }
  /** Written on the lease's connection, so after any renewal in flight: the server sees them in order. */
  | { readonly type: 'send-release'; readonly token: string }
  | { readonly type: 'schedule'; readonly at: number }
  | { readonly type: 'cancel-timer' }
  | { readonly type: 'complete' };

/** Timing rules of one lease. */
export interface LeaseTiming {
  /** Renew after this fraction of the lease. */
  readonly renewRatio: number;
  /** Never stay silent longer than this (ms), whatever the lease: well inside the server's idle timeout. */
  readonly heartbeatMs: number;
  /**
   * The server's read timeout (ms). A holder cut off for this long has its connection dropped —
   * and its locks auto-released — however long the lease: the claim never outlasts it.
   */
  readonly idleTimeoutMs?: number;
  /**
   * A random number in [0, 1): each renewal comes up to {@link RENEW_SPREAD} of its interval
   * early, so leases acquired together (a burst at start-up) stop renewing together.
   * @default no jitter (deterministic, for tests)
   */
  readonly jitter?: () => number;
}

/** Largest share of the renew interval by which {@link LeaseTiming.jitter} brings a renewal forward. */
export const RENEW_SPREAD = 0.2;

function nextRenewal(base: number, leaseMs: number, timing: LeaseTiming): number {
  const interval = renewInterval(leaseMs, timing);
  return base + interval * (1 - RENEW_SPREAD * (timing.jitter?.() ?? 0));
}

/**
 * How long a successful acquire/renew keeps the lock, counted from its send time: the lease,
 * or the server's idle timeout if shorter (the server drops a silent connection and releases its locks).
 */
export function claimLength(leaseMs: number, timing: LeaseTiming): number {
  return Math.min(leaseMs, timing.idleTimeoutMs ?? Infinity);
}

/** Safety margin taken off every deadline: 2% of the lease, between 50 ms and 1 s. */
export function deadlineMargin(leaseMs: number): number {
  return Math.min(1000, Math.max(50, leaseMs * 0.02));
}

/**
 * Time between renewals: the lease × ratio, but never longer than the heartbeat, and always a
 * margin before the deadline (a ratio close to 1 would otherwise schedule the renewal too late).
 */
export function renewInterval(leaseMs: number, timing: LeaseTiming): number {
  const claimMs = claimLength(leaseMs, timing);
  return Math.min(leaseMs * timing.renewRatio, timing.heartbeatMs, claimMs - 2 * deadlineMargin(claimMs));
}

/** The local deadline of a claim that started no earlier than `base`. */
function deadlineFrom(base: number, leaseMs: number, timing: LeaseTiming): number {
  const claimMs = claimLength(leaseMs, timing);
  return base + claimMs - deadlineMargin(claimMs);
}

/** The result of one step. */
export interface LeaseStep {
  readonly state: LeaseState;
  readonly effects: readonly LeaseEffect[];
}

// The states and effects without fields, shared (they are read, never changed).
const RELEASED: EndedLease = Object.freeze({ phase: 'released' });
const CANCEL_TIMER: LeaseEffect = Object.freeze({ type: 'cancel-timer' });
const COMPLETE: LeaseEffect = Object.freeze({ type: 'complete' });
/** A step with nothing to do. Shared: most inputs in most phases change nothing. */
const NO_EFFECTS: readonly LeaseEffect[] = Object.freeze([]);

function unchanged(state: LeaseState): LeaseStep {
  return { state, effects: NO_EFFECTS };
}

/** The first step of a lease: held from `grant`, `acquired` emitted, the first wake-up scheduled. */
export function startLease(key: string, grant: LeaseGrant, timing: LeaseTiming): LeaseStep {
  const leaseMs = grant.leaseS * 1000;
  const held: LiveLease = {
    phase: 'held',
    token: grant.token,
    leaseS: grant.leaseS,
    deadline: deadlineFrom(grant.sentAt, leaseMs, timing),
    renewAt: nextRenewal(grant.sentAt, leaseMs, timing),
    renewSentAt: 0,
  };
  return advance(key, held, grant.now, { type: 'emit', event: { type: 'acquired', key, token: held.token, leaseS: held.leaseS, expiresAt: held.deadline } });
}

/** Advances a live lease by one input. Inputs that make no sense in its phase are ignored (no effects). */
export function leaseStep(key: string, state: LiveLease, input: LeaseInput, timing: LeaseTiming): LeaseStep {
  switch (input.type) {
    case 'tick':
      return advance(key, state, input.now);
    case 'renew-ok': {
      if (state.phase !== 'renewing') return unchanged(state);
      const leaseMs = input.leaseS * 1000;
      const held: LiveLease = {
        ...state,
        phase: 'held',
        leaseS: input.leaseS,
        deadline: deadlineFrom(state.renewSentAt, leaseMs, timing),
        renewAt: nextRenewal(state.renewSentAt, leaseMs, timing),
      };
      return advance(key, held, input.now, { type: 'emit', event: { type: 'renewed', key, token: held.token, leaseS: held.leaseS, expiresAt: held.deadline } });
    }
    case 'renew-failed':
    case 'disconnected':
      return lose(key, state, input.reason, input.error, undefined);
    case 'shutdown':
      return lose(key, state, 'disconnected', input.error, { type: 'send-release', token: state.token });
    case 'release':
      return { state: RELEASED, effects: [{ type: 'send-release', token: state.token }, CANCEL_TIMER] };
  }
}

function lose(key: string, state: LiveLease, reason: LostReason, error: DflockdError | undefined, first: LeaseEffect | undefined): LeaseStep {
  const lost: LeaseEffect = { type: 'emit', event: { type: 'lost', key, token: state.token, reason, error } };
  return { state: { phase: 'lost', reason }, effects: first === undefined ? [CANCEL_TIMER, lost, COMPLETE] : [first, CANCEL_TIMER, lost, COMPLETE] };
}

/**
 * Applies the clock: lose at the deadline, renew when due, and schedule the next wake-up.
 * At the deadline the lease's own `r` is written (after its renewal in flight, on the same
 * connection): its trouble is its own, and the connection it shares stays up.
 */
function advance(key: string, state: LiveLease, now: number, first?: LeaseEffect): LeaseStep {
  if (now >= state.deadline) {
    const lost = lose(key, state, 'deadline', undefined, { type: 'send-release', token: state.token });
    return first === undefined ? lost : { state: lost.state, effects: [first, ...lost.effects] };
  }
  // Each array is built at its final length: a literal grown by push() reallocates.
  if (state.phase === 'held' && now >= state.renewAt) {
    const next: LiveLease = { ...state, phase: 'renewing', renewSentAt: now };
    const renew: LeaseEffect = { type: 'send-renew', token: state.token, leaseS: state.leaseS };
    const schedule: LeaseEffect = { type: 'schedule', at: next.deadline };
    return { state: next, effects: first === undefined ? [renew, schedule] : [first, renew, schedule] };
  }
  const schedule: LeaseEffect = { type: 'schedule', at: state.phase === 'held' ? Math.min(state.renewAt, state.deadline) : state.deadline };
  return { state, effects: first === undefined ? [schedule] : [first, schedule] };
}
