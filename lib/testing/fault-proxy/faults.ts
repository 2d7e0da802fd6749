/**
 * Which way a fault applies: `'toServer'` is the client → server stream,
 * `'toClient'` the server → client stream.
 *
 * @example
 * ```ts
 * proxy.setLatency(200, { direction: 'toClient' }); // slow replies only
 * ```
 */
export type FaultDirection = 'both' | 'toServer' | 'toClient';

/**
 * What a black-hole does with the bytes it swallows.
 *
 * - `'hold'` (default): stop reading both sockets, keep what the proxy had
 *   already read, and deliver all of it, in order, on `heal()`. This is what
 *   an application sees over a real partition: TCP retransmits, so bytes are
 *   late, never missing. Memory stays bounded because unread bytes wait in the
 *   kernel and the sender's writes back up.
 * - `'drop'`: keep reading and discard. The stream loses bytes mid-line, which
 *   real TCP never does; use it to test a peer's reaction to a corrupted or
 *   desynchronised stream after `heal()`.
 *
 * In both modes a FIN or RST from a peer is held until `heal()`, so the other
 * side does not learn of a close across the partition.
 *
 * @example
 * ```ts
 * proxy.blackhole({ mode: 'drop' });
 * ```
 */
export type BlackholeMode = 'hold' | 'drop';

/**
 * Options of `setLatency()`.
 *
 * @example
 * ```ts
 * proxy.setLatency(50, { direction: 'toServer' });
 * ```
 */
export interface LatencyOptions {
  /** @default 'both' */
  readonly direction?: FaultDirection;
}

/**
 * Options of `blackhole()`.
 *
 * @example
 * ```ts
 * connection.blackhole({ direction: 'toClient' }); // the server looks stalled
 * ```
 */
export interface BlackholeOptions {
  /** @default 'both' */
  readonly direction?: FaultDirection;
  /** @default 'hold' */
  readonly mode?: BlackholeMode;
}

/**
 * Options of `refuseNew()`.
 *
 * @example
 * ```ts
 * proxy.refuseNew(true, { reset: true }); // new clients get ECONNRESET
 * ```
 */
export interface RefuseOptions {
  /** Close refused connections with RST instead of FIN. @default false */
  readonly reset?: boolean;
}

/** @internal */
export function directionsOf(direction: FaultDirection, option: string): readonly ('toServer' | 'toClient')[] {
  switch (direction) {
    case 'both':
      return ['toServer', 'toClient'];
    case 'toServer':
    case 'toClient':
      return [direction];
    default:
      throw new RangeError(`FaultProxy: ${option} must be 'both', 'toServer' or 'toClient', got ${JSON.stringify(direction)}`);
  }
}

/** @internal */
export function checkLatency(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`FaultProxy: setLatency(ms) needs a finite number of milliseconds >= 0, got ${String(ms)}`);
  }
  return ms;
}

/** @internal */
export function checkBlackholeMode(mode: BlackholeMode | undefined): BlackholeMode {
  if (mode === undefined) return 'hold';
  if (mode !== 'hold' && mode !== 'drop') {
    throw new RangeError(`FaultProxy: blackhole({ mode }) must be 'hold' or 'drop', got ${JSON.stringify(mode)}`);
  }
  return mode;
}
