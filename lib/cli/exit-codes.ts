/**
 * The exit codes of `dflockd-rx run` and `stats`. The numbers follow BSD `sysexits.h`, so a
 * shell script can tell "try again later" (75, EX_TEMPFAIL) from "fix the command" (64,
 * EX_USAGE) without colliding with the small codes most programs use for their own failures.
 *
 * @module
 */

import { AcquireTimeoutError, AuthError, ConnectionError, DflockdError, DrainingError, InvalidArgumentError, LeaseLostError } from '../errors.js';

/**
 * Exit codes, by meaning.
 *
 * @example
 * ```ts
 * if (status === EXIT.ACQUIRE_TIMEOUT) console.log('someone else holds it; try later');
 * ```
 */
export const EXIT = Object.freeze({
  OK: 0,
  /** EX_USAGE: a bad flag, a missing argument or an invalid key. */
  USAGE: 64,
  /** EX_UNAVAILABLE: could not connect, or the server refused the request (max locks, max waiters, limit mismatch). */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: an unexpected internal error (a bug: please report it). */
  SOFTWARE: 70,
  /** EX_TEMPFAIL: the lock (or a slot) was not acquired within `--timeout`. */
  ACQUIRE_TIMEOUT: 75,
  /** EX_TEMPFAIL too: the server is shutting down (`error_draining`, dflockd ≥ 1.16); try again against a running one. */
  DRAINING: 75,
  /** The lease was lost while CMD ran; CMD was sent SIGTERM (then SIGKILL). sysexits' 76 is EX_PROTOCOL, unused here. */
  LEASE_LOST: 76,
  /** EX_NOPERM: the server refused the auth token. */
  AUTH: 77,
  /** The shell's code for a CMD that exists but cannot be executed. */
  CANNOT_EXECUTE: 126,
  /** The shell's code for a CMD that was not found. */
  NOT_FOUND: 127,
});

const EXIT_ROWS: ReadonlyArray<readonly [code: string, meaning: string, only?: 'run']> = [
  ["CMD's own", "CMD's exit status; 128+N if CMD was killed by signal N", 'run'],
  ['0', 'success'],
  ['64', 'usage error (bad flag, missing argument, invalid key)'],
  ['69', 'cannot connect, or the server refused (max locks/waiters, limit mismatch)'],
  ['70', 'internal error'],
  ['75', 'the lock or slot was not acquired within --timeout, or the server is shutting down (try again later)', 'run'],
  ['76', 'the lease was lost while CMD ran (CMD got SIGTERM, then SIGKILL)', 'run'],
  ['77', 'the server refused the auth token'],
  ['126, 127', 'CMD cannot be executed / was not found', 'run'],
  ['128+N', 'interrupted by signal N before CMD started', 'run'],
];

/**
 * The exit-code table as printed by `--help`: every code, or those of one command.
 *
 * @example
 * ```ts
 * process.stdout.write(exitHelp('stats'));
 * ```
 */
export function exitHelp(command?: 'run' | 'stats'): string {
  const rows = EXIT_ROWS.filter(([, , only]) => command === undefined || only === undefined || only === command)
    .filter(([code]) => !(command === 'run' && code === '0'))
    .map(([code, meaning, only]) => `  ${code.padEnd(12)}  ${command === undefined && only !== undefined ? `${only}: ` : ''}${meaning}`);
  return ['Exit status:', ...rows, ''].join('\n');
}

/**
 * The exit code for a failure reported by the client.
 *
 * @example
 * ```ts
 * exitCodeFor(new AcquireTimeoutError('…')); // 75
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof AcquireTimeoutError) return EXIT.ACQUIRE_TIMEOUT;
  // Before ConnectionError: a connection ended by a drain is the server's temporary state.
  if (error instanceof DrainingError) return EXIT.DRAINING;
  if (error instanceof LeaseLostError) return EXIT.LEASE_LOST;
  if (error instanceof AuthError) return EXIT.AUTH;
  if (error instanceof InvalidArgumentError) return EXIT.USAGE;
  if (error instanceof ConnectionError) return EXIT.UNAVAILABLE;
  // Every other server refusal (max locks, max waiters, limit mismatch, plain `error`).
  if (error instanceof DflockdError) return EXIT.UNAVAILABLE;
  return EXIT.SOFTWARE;
}
