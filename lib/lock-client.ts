/**
 * What the Promise facade needs of a client: the TCP `DflockdClient` and the HTTP
 * `DflockdHttpClient` both are one. Type-only, transport-free.
 *
 * @module
 */
import type { Observable } from 'rxjs';
import type { DflockdError } from './errors.js';
import type { LockEvent } from './lease/events.js';
import type { TwoPhaseControl } from './lease/acquisition.js';
import type { LockOptions, ResolvedLockOptions } from './lock-options.js';

/** Everything a client does, as one hot stream (`client.events$`). */
export type ClientEvent =
  | (LockEvent & { readonly server: string })
  /** A connection (TCP) or a session (HTTP) was opened. */
  | { readonly type: 'connected'; readonly server: string }
  /** A connection (TCP) or a session (HTTP) ended. */
  | { readonly type: 'disconnected'; readonly server: string; readonly error: DflockdError }
  | { readonly type: 'released'; readonly key: string; readonly token: string; readonly server: string }
  | { readonly type: 'release-failed'; readonly key: string; readonly token: string; readonly server: string; readonly error: DflockdError };

/** A client the facade (`DistributedLock`, `DistributedSemaphore`) can run on: TCP or HTTP. */
export interface LockClient {
  /** The client's renewal ratio, the default of every lock's. */
  readonly options: { readonly renewRatio: number };
  /** The client's events: the facade reads the outcome of its releases there. */
  readonly events$: Observable<ClientEvent>;
  /**
   * One acquisition as a cold Observable, with the facade's two-phase mode.
   * @internal
   */
  acquisition(
    key: string,
    limit: number | undefined,
    options: LockOptions | ResolvedLockOptions | undefined,
    twoPhase?: TwoPhaseControl,
    observer?: { released(ok: boolean, error?: DflockdError): void },
  ): Observable<LockEvent>;
}

/** Whether `value` can serve the facade (a DflockdClient or a DflockdHttpClient, from either module format). */
export function isLockClient(value: unknown): value is LockClient {
  const c = value as Partial<LockClient> | null;
  return typeof c === 'object' && c !== null && typeof c.acquisition === 'function' && typeof c.events$ === 'object' && typeof c.options === 'object';
}
