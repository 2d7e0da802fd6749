import type { DflockdError } from '../errors.js';

/** Why a lease ended while its subscriber still wanted it. */
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
  /** Local monotonic deadline (ms, `performance.now()` scale): `lost` is emitted no later than this unless renewed. */
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
  readonly expiresAt: number;
  /** The token's fence (servers ≥ 2.1), with `ClientOptions.fencing`: the same as at `acquired`. */
  readonly fence?: bigint;
}

/** The lease is gone while the subscriber still wanted it. Always the last event. */
export interface LostEvent {
  readonly type: 'lost';
  readonly key: string;
  readonly token: string;
  readonly reason: LostReason;
  readonly error?: DflockdError | undefined;
}

/** What `client.lock()` and `client.semaphore()` emit: `queued → acquired → renewed … → lost`. */
export type LockEvent = QueuedEvent | AcquiredEvent | RenewedEvent | LostEvent;
