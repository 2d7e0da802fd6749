/**
 * Fencing tokens of dflockd 2.1+: the token is still 32 lowercase hex
 * characters, but its first 16 are a big-endian uint64 fence that strictly
 * increases with every grant on the server (PROTOCOL.md §2.4).
 *
 * @module
 */

import { InvalidArgumentError } from '../errors.js';

const TOKEN = /^[0-9a-f]{32}$/;

/**
 * The fence of a dflockd 2.1 token: its first 16 hex digits as a big-endian
 * uint64. Pass it to the storage you protect and refuse writes carrying a
 * smaller fence than one already seen for that resource.
 *
 * A token from an older server (before 2.1) parses too, but its "fence" is
 * random and means nothing: only use fences against servers ≥ 2.1.
 *
 * @param token - a token as the server sent it (`ok <token> <lease>`).
 * @returns the fence, `0n` … `2n ** 64n - 1n`.
 * @throws InvalidArgumentError (`argument: 'token'`) unless `token` is 32 lowercase hex digits.
 *
 * @example
 * ```ts
 * fenceOf('0000000000000002a1b2c3d4e5f60718'); // 2n
 * const older = fenceOf(firstToken) < fenceOf(secondToken); // true on the same 2.1 server
 * ```
 */
export function fenceOf(token: string): bigint {
  if (typeof token !== 'string' || !TOKEN.test(token)) {
    const shown = typeof token === 'string' ? JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}…` : token) : typeof token;
    throw new InvalidArgumentError('token', `must be 32 lowercase hex digits (a dflockd token), got ${shown}`);
  }
  return BigInt(`0x${token.slice(0, 16)}`);
}
