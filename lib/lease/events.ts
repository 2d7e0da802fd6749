import type { DflockdError } from '../errors.js';

/**
 * Why a lease ended while its subscriber still wanted it. `LostEvent.reason` is this union kept
 * open (`| (string & {})`) so that a later reason does not break code compiled today, while a
 * `switch` over these four is still checked.
 */
export type LostReason = 'expired' | 'disconnected' | 'deadline' | 'server-shutdown';

/** The server put this acquisition in its FIFO queue (emitted only when it really had to wait). */
export interface QueuedEvent {
  readonly type: 'queued';
  readonly key: string;
}

/** The lock (or semaphore slot) is held. */
export interface AcquiredEvent {
  readonly type: 'acquired';
  readonly key: string;
  /** The server's token for this hold. */
  readonly token: string;
  /** Lease length granted, in seconds. */
  readonly leaseS: number;
  /**
   * The margin-adjusted local deadline (ms on the client scheduler's monotonic clock, by default
   * `performance.now()`): the time the grant was requested, plus the lease, minus a safety margin,
   * and never later than the server's idle timeout. Unless a
   * renewal moves it, `lost` follows it within timer resolution (a millisecond or two) — still
   * well before the server can hand the lock on.
   */
  readonly expiresAt: number;
  /** The token's fence (servers ≥ 2.1), with `ClientOptions.fencing`: see `fenceOf`. */
  readonly fence?: bigint;
}

/** A renewal succeeded; the deadline moved. */
export interface RenewedEvent {
  readonly type: 'renewed';
  readonly key: string;
  readonly token: string;
  readonly leaseS: number;
  /** The new margin-adjusted local deadline, as {@link AcquiredEvent.expiresAt}. */
  readonly expiresAt: number;
  /** The token's fence (servers ≥ 2.1), with `ClientOptions.fencing`: the same as at `acquired`. */
  readonly fence?: bigint;
}

/** The lease is gone while the subscriber still wanted it. Always the last event. */
export interface LostEvent {
  readonly type: 'lost';
  readonly key: string;
  readonly token: string;
  readonly reason: LostReason | (string & {});
  readonly error?: DflockdError | undefined;
}

/** What `client.lock()` and `client.semaphore()` emit: `queued → acquired → renewed … → lost`. */
export type LockEvent = QueuedEvent | AcquiredEvent | RenewedEvent | LostEvent;
