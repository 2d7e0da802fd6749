import { InvalidArgumentError } from '../errors.js';
import type { ClientOptions, LockOptions } from '../options.js';
import { LockClient, isLockClient } from '../lock-client.js';

/**
 * A facade lock on a client shared with other code: lock options only, the client's own apply
 * (a client option next to `client` would be silently meaningless, so it is a type error).
 */
export type SharedClientLockOptions = LockOptions & {
  /** Share this client (a `DflockdClient`, or a `DflockdHttpClient` of `dflockd-rx/http`); it is not closed by the facade. */
  readonly client: LockClient;
} & { readonly [K in Exclude<keyof ClientOptions, keyof LockOptions>]?: never };

/**
 * A facade lock with a private client, built from these options: kept while the lock is used again
 * at once, closed once the lock has been idle to the end of the event loop's turn (or disposed).
 */
export type OwnClientLockOptions = LockOptions & ClientOptions & { readonly client?: undefined };

/**
 * Options of {@link DistributedLock} and {@link DistributedSemaphore}: either a shared `client`
 * plus lock options, or every lock option and client option for a private client. A client
 * option next to `client` is a type error (and, for JavaScript callers, an InvalidArgumentError).
 *
 * @example
 * ```ts
 * new DistributedLock('a', { servers: ['10.0.0.5:6388'], acquireTimeoutS: 5 });
 * new DistributedLock('b', { client, acquireTimeoutS: 5 });
 * ```
 */
export type DistributedLockOptions = SharedClientLockOptions | OwnClientLockOptions;

/** The option names a lock takes next to `client`. */
const LOCK_OPTION_NAMES: ReadonlySet<string> = new Set<keyof SharedClientLockOptions>(['client', 'acquireTimeoutS', 'leaseTtlS', 'renewRatio']);

/** The facade's options split into the shared client (if any), the lock options, and a private client's options. */
export interface FacadeOptions {
  readonly client: LockClient | undefined;
  readonly lock: LockOptions;
  readonly clientOptions: ClientOptions;
}

/** @throws InvalidArgumentError for a `client` that is neither a DflockdClient nor a DflockdHttpClient, or a client option next to one. */
export function splitFacadeOptions(options: DistributedLockOptions): FacadeOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  const { client, acquireTimeoutS, leaseTtlS, renewRatio, ...clientOnly } = options as Omit<OwnClientLockOptions, 'client'> & { readonly client?: unknown };
  const lock: LockOptions = { acquireTimeoutS, leaseTtlS, renewRatio };
  if (client === undefined) return { client: undefined, lock, clientOptions: { ...clientOnly, renewRatio } };
  if (!isLockClient(client)) throw new InvalidArgumentError('client', 'must be a DflockdClient or a DflockdHttpClient');
  for (const name of Object.keys(options)) {
    if (!LOCK_OPTION_NAMES.has(name) && (options as Record<string, unknown>)[name] !== undefined) {
      throw new InvalidArgumentError(name, 'has no effect next to `client` (the shared client\'s own options apply); set it on the client, or drop `client`');
    }
  }
  return { client, lock, clientOptions: {} };
}
