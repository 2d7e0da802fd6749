/**
 * The options of one acquisition (`lock()`, `semaphore()`, the facade), for the TCP and the HTTP
 * client alike: transport-free, so `dflockd-rx/http` and its declarations reach no Node type.
 *
 * @module
 */
import { InvalidArgumentError } from './errors.js';
import { checkInteger, checkRatio } from './protocol/validate.js';

/** Options of one acquisition: `client.lock()`, `client.semaphore()`, and the facade. */
export interface LockOptions {
  /** Seconds to wait in the queue; `0` tries once. Integer ≥ 0. @default 10 */
  readonly acquireTimeoutS?: number;
  /** Lease length requested, in seconds; integer ≥ 1. @default the server's (33 on dflockd) */
  readonly leaseTtlS?: number;
  /** Per-lock override of the client's `renewRatio`. */
  readonly renewRatio?: number;
}

/** The acquisition defaults, frozen. */
export const LOCK_DEFAULTS = Object.freeze({ acquireTimeoutS: 10 });

/** Lock options after validation. */
export interface ResolvedLockOptions {
  readonly acquireTimeoutS: number;
  readonly leaseTtlS: number | undefined;
  readonly renewRatio: number;
}

/** Validates one acquisition's options against the client's. */
export function resolveLockOptions(options: LockOptions | undefined, client: { readonly renewRatio: number }): ResolvedLockOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('options', 'must be an object');
  return {
    acquireTimeoutS: o.acquireTimeoutS === undefined ? LOCK_DEFAULTS.acquireTimeoutS : checkInteger(o.acquireTimeoutS, 'acquireTimeoutS', 0),
    leaseTtlS: o.leaseTtlS === undefined ? undefined : checkInteger(o.leaseTtlS, 'leaseTtlS', 1),
    renewRatio: o.renewRatio === undefined ? client.renewRatio : checkRatio(o.renewRatio, 'renewRatio'),
  };
}
