import type { DflockdError } from '../errors.js';
import type { LockEvent, LostReason } from './events.js';

/**
 * The lease lifecycle as a pure state machine: no timers, no I/O. The driver feeds it inputs
 * (replies, clock ticks) and carries out the effects it returns. Times are monotonic ms.
 *
 * ```
 * acquiring ─► queued ─► held ⇄ renewing
 *     │          │         │        │
 *     └──────────┴─────────┴────────┴─► released | lost
 * ```
 */
export type LeaseState =
  | { readonly phase: 'acquiring' }
  | { readonly phase: 'queued' }
  | HeldState
  | { readonly phase: 'released' }
  | { readonly phase: 'lost'; readonly reason: LostReason };

/** Held, with or without a renewal in flight. */
export interface HeldState {
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

/** What the driver reports to the machine. */
export type LeaseInput =
  | { readonly type: 'queued' }
  /** Granted. `sentAt` is when the granting request was written: the lease cannot have started earlier. */
  | { readonly type: 'granted'; readonly token: string; readonly leaseS: number; readonly sentAt: number; readonly now: number }
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
  | { readonly type: 'send-release'; readonly token: string }
  | { readonly type: 'schedule'; readonly at: number }
  | { readonly type: 'cancel-timer' }
  /** The connection is stalled or lost: close it (the server auto-releases what it owned). */
  | { readonly type: 'close-connection' }
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
/** The states and effects without fields, shared (they are read, never changed). */
export const ACQUIRING: LeaseState = Object.freeze({ phase: 'acquiring' });
const QUEUED: LeaseState = Object.freeze({ phase: 'queued' });
export const RELEASED: LeaseState = Object.freeze({ phase: 'released' });
const CANCEL_TIMER: LeaseEffect = Object.freeze({ type: 'cancel-timer' });
const COMPLETE: LeaseEffect = Object.freeze({ type: 'complete' });
const CLOSE_CONNECTION: LeaseEffect = Object.freeze({ type: 'close-connection' });

/** A step with nothing to do. Shared: most inputs in most phases change nothing. */
const NO_EFFECTS: readonly LeaseEffect[] = Object.freeze([]);

/** The input changes nothing: built only when that is the answer. */
function unchanged(state: LeaseState): LeaseStep {
  return { state, effects: NO_EFFECTS };
}

export interface LeaseStep {
  readonly state: LeaseState;
  readonly effects: readonly LeaseEffect[];
}

/** Advances the machine by one input. Inputs that make no sense in a phase are ignored (no effects). */
export function leaseStep(key: string, state: LeaseState, input: LeaseInput, timing: LeaseTiming): LeaseStep {
  switch (input.type) {
    case 'queued':
      return state.phase === 'acquiring' ? { state: QUEUED, effects: [{ type: 'emit', event: { type: 'queued', key } }] } : unchanged(state);
    case 'granted': {
      if (state.phase !== 'acquiring' && state.phase !== 'queued') return unchanged(state);
      const leaseMs = input.leaseS * 1000;
      const held: HeldState = {
        phase: 'held',
        token: input.token,
        leaseS: input.leaseS,
        deadline: deadlineFrom(input.sentAt, leaseMs, timing),
        renewAt: nextRenewal(input.sentAt, leaseMs, timing),
        renewSentAt: 0,
      };
      return advance(key, held, input.now, { type: 'emit', event: { type: 'acquired', key, token: held.token, leaseS: held.leaseS, expiresAt: held.deadline } });
    }
    case 'tick':
      return state.phase === 'held' || state.phase === 'renewing' ? advance(key, state, input.now) : unchanged(state);
    case 'renew-ok': {
      if (state.phase !== 'renewing') return unchanged(state);
      const leaseMs = input.leaseS * 1000;
      const held: HeldState = {
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
      if (state.phase !== 'held' && state.phase !== 'renewing') return unchanged(state);
      return lose(key, state, input.reason, input.error, []);
    case 'shutdown':
      if (state.phase !== 'held' && state.phase !== 'renewing') return unchanged(state);
      return lose(key, state, 'disconnected', input.error, [{ type: 'send-release', token: state.token }]);
    case 'release':
      if (state.phase === 'held' || state.phase === 'renewing') {
        return { state: RELEASED, effects: [{ type: 'send-release', token: state.token }, CANCEL_TIMER] };
      }
      return state.phase === 'acquiring' || state.phase === 'queued' ? { state: RELEASED, effects: NO_EFFECTS } : unchanged(state);
  }
}

function lose(key: string, state: HeldState, reason: LostReason, error: DflockdError | undefined, before: LeaseEffect[]): LeaseStep {
  return {
    state: { phase: 'lost', reason },
    effects: [...before, CANCEL_TIMER, { type: 'emit', event: { type: 'lost', key, token: state.token, reason, error } }, COMPLETE],
  };
}

/** Applies the clock: lose at the deadline, renew when due, and schedule the next wake-up. */
function advance(key: string, state: HeldState, now: number, first?: LeaseEffect): LeaseStep {
  // Each array is built at its final length: a literal grown by push() reallocates.
  if (now >= state.deadline) return lose(key, state, 'deadline', undefined, first === undefined ? [CLOSE_CONNECTION] : [first, CLOSE_CONNECTION]);
  if (state.phase === 'held' && now >= state.renewAt) {
    const next: HeldState = { ...state, phase: 'renewing', renewSentAt: now };
    const renew: LeaseEffect = { type: 'send-renew', token: state.token, leaseS: state.leaseS };
    const schedule: LeaseEffect = { type: 'schedule', at: next.deadline };
    return { state: next, effects: first === undefined ? [renew, schedule] : [first, renew, schedule] };
  }
  const schedule: LeaseEffect = { type: 'schedule', at: state.phase === 'held' ? Math.min(state.renewAt, state.deadline) : state.deadline };
  return { state, effects: first === undefined ? [schedule] : [first, schedule] };
}
