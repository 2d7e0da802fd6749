/**
 * Turns the three lines of a request into a typed request, with dflockd's
 * exact acceptance rules (command set, key validation, Go integer and
 * duration semantics), per compat mode: v1.10.0's int64 wrap-around quirks
 * and lax `e`, or v2.1's range checks, strict `e` and `ping`.
 *
 * @module
 */

import type { CompatRules } from './compat.js';
import { atoi, durationMs, durationSeconds, fields, secondsToDuration, trimSpace } from './go-text.js';

/** A single-phase acquire (`l`, `sl`). */
export interface AcquireRequest {
  readonly cmd: 'l' | 'sl';
  readonly key: string;
  readonly timeoutMs: number;
  readonly leaseMs: number;
  /** Whole seconds echoed in the reply (0 means "show the server default"). */
  readonly leaseSec: number;
  readonly limit: number;
  /** Canonical decimal limit: compared for `error_limit_mismatch`, printed in stats. */
  readonly limitText: string;
}

/** A release (`r`, `sr`). */
export interface ReleaseRequest {
  readonly cmd: 'r' | 'sr';
  readonly key: string;
  readonly token: string;
}

/** A renew (`n`, `sn`). */
export interface RenewRequest {
  readonly cmd: 'n' | 'sn';
  readonly key: string;
  readonly token: string;
  readonly leaseMs: number;
  readonly leaseSec: number;
}

/** A two-phase enqueue (`e`, `se`). */
export interface EnqueueRequest {
  readonly cmd: 'e' | 'se';
  readonly key: string;
  readonly leaseMs: number;
  readonly leaseSec: number;
  readonly limit: number;
  readonly limitText: string;
}

/** A two-phase wait (`w`, `sw`). */
export interface WaitRequest {
  readonly cmd: 'w' | 'sw';
  readonly key: string;
  readonly timeoutMs: number;
}

/** `auth` (key ignored) and `stats` (key and argument ignored). */
export type AuthRequest = { readonly cmd: 'auth'; readonly token: string };
/** `stats`: key and argument are read and ignored. */
export type StatsRequest = { readonly cmd: 'stats' };
/** `ping` (v1.14+): key and argument are read and ignored. */
export type PingRequest = { readonly cmd: 'ping' };

/** Every request the server understands (`ping` only where the mode has it). */
export type Request = AcquireRequest | ReleaseRequest | RenewRequest | EnqueueRequest | WaitRequest | AuthRequest | StatsRequest | PingRequest;

/**
 * dflockd's protocol error codes for parse failures. Every one answers `error`
 * and keeps the connection open; the number only helps when debugging a test.
 */
export const ParseError = Object.freeze({
  badCommand: 3,
  badInteger: 4,
  badKey: 5,
  negativeTimeout: 6,
  emptyToken: 7,
  badArgCount: 8,
  badLease: 9,
  badLimit: 13,
});

const STATS: StatsRequest = Object.freeze({ cmd: 'stats' });
const PING: PingRequest = Object.freeze({ cmd: 'ping' });

// Keys are byte strings: only space, TAB, CR and LF are refused (not NUL, VT, FF...).
function invalidKey(key: string): boolean {
  if (key.length === 0) return true;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

interface Lease {
  readonly leaseMs: number;
  readonly leaseSec: number;
}

/** Parser bound to a server's default lease and compat rules. */
export class RequestParser {
  private readonly defaultLease: Lease;

  constructor(
    defaultLeaseNs: bigint,
    private readonly rules: CompatRules,
  ) {
    this.defaultLease = Object.freeze({ leaseMs: durationMs(defaultLeaseNs), leaseSec: durationSeconds(defaultLeaseNs) });
  }

  /** Parses one request; a number is a {@link ParseError} code. */
  parse(cmd: string, key: string, arg: string): Request | number {
    switch (cmd) {
      case 'l': case 'r': case 'n': case 'e': case 'w':
      case 'sl': case 'sr': case 'sn': case 'se': case 'sw':
        break;
      case 'auth':
        return { cmd: 'auth', token: trimSpace(arg) };
      case 'stats':
        return STATS;
      case 'ping':
        if (this.rules.ping) return PING;
        return ParseError.badCommand;
      default:
        return ParseError.badCommand;
    }
    if (invalidKey(key)) return ParseError.badKey;
    switch (cmd) {
      case 'l':
      case 'sl':
        return this.parseAcquire(cmd, key, arg);
      case 'r':
      case 'sr': {
        const token = trimSpace(arg);
        return token === '' ? ParseError.emptyToken : { cmd, key, token };
      }
      case 'n':
      case 'sn':
        return this.parseRenew(cmd, key, arg);
      case 'e':
      case 'se':
        return this.parseEnqueue(cmd, key, arg);
      default:
        return this.parseWait(cmd as 'w' | 'sw', key, arg);
    }
  }

  private parseAcquire(cmd: 'l' | 'sl', key: string, arg: string): AcquireRequest | number {
    const parts = fields(arg);
    const withLimit = cmd === 'sl' ? 1 : 0;
    if (parts.length !== 1 + withLimit && parts.length !== 2 + withLimit) return ParseError.badArgCount;
    const timeout = atoi(parts[0]!);
    if (timeout === undefined) return ParseError.badInteger;
    if (timeout < 0n || this.tooLarge(timeout)) return ParseError.negativeTimeout;
    let limit = 1n;
    if (withLimit === 1) {
      const l = atoi(parts[1]!);
      if (l === undefined) return ParseError.badInteger;
      if (l <= 0n) return ParseError.badLimit;
      limit = l;
    }
    const lease = this.parseLease(parts[1 + withLimit]);
    if (typeof lease === 'number') return lease;
    return { cmd, key, timeoutMs: durationMs(secondsToDuration(timeout)), ...lease, limit: Number(limit), limitText: limit.toString() };
  }

  private parseRenew(cmd: 'n' | 'sn', key: string, arg: string): RenewRequest | number {
    const parts = fields(arg);
    if (parts.length !== 1 && parts.length !== 2) return ParseError.badArgCount;
    const lease = this.parseLease(parts[1]);
    if (typeof lease === 'number') return lease;
    return { cmd, key, token: parts[0]!, ...lease };
  }

  private parseEnqueue(cmd: 'e' | 'se', key: string, arg: string): EnqueueRequest | number {
    if (cmd === 'e' && this.rules.strictEnqueueArgs) {
      // v2.0+: zero or one field, checked like any other lease.
      const parts = fields(arg);
      if (parts.length > 1) return ParseError.badArgCount;
      const lease = this.parseLease(parts[0]);
      if (typeof lease === 'number') return lease;
      return { cmd, key, ...lease, limit: 1, limitText: '1' };
    }
    if (cmd === 'e') {
      // `e` alone checks the number before multiplying, so a huge lease wraps
      // instead of being refused (dflockd v1.10 quirk).
      const stripped = trimSpace(arg);
      if (stripped === '') return { cmd, key, ...this.defaultLease, limit: 1, limitText: '1' };
      const n = atoi(stripped);
      if (n === undefined) return ParseError.badInteger;
      if (n <= 0n) return ParseError.badLease;
      const ns = secondsToDuration(n);
      return { cmd, key, leaseMs: durationMs(ns), leaseSec: durationSeconds(ns), limit: 1, limitText: '1' };
    }
    const parts = fields(arg);
    if (parts.length !== 1 && parts.length !== 2) return ParseError.badArgCount;
    const limit = atoi(parts[0]!);
    if (limit === undefined) return ParseError.badInteger;
    if (limit <= 0n) return ParseError.badLimit;
    const lease = this.parseLease(parts[1]);
    if (typeof lease === 'number') return lease;
    return { cmd, key, ...lease, limit: Number(limit), limitText: limit.toString() };
  }

  private parseWait(cmd: 'w' | 'sw', key: string, arg: string): WaitRequest | number {
    const stripped = trimSpace(arg);
    if (stripped === '') return ParseError.badArgCount;
    const timeout = atoi(stripped);
    if (timeout === undefined) return ParseError.badInteger;
    if (timeout < 0n || this.tooLarge(timeout)) return ParseError.negativeTimeout;
    return { cmd, key, timeoutMs: durationMs(secondsToDuration(timeout)) };
  }

  // v1.15+ refuse seconds whose nanoseconds overflow int64; v1.10.0 lets them wrap.
  private tooLarge(n: bigint): boolean {
    return this.rules.maxSeconds !== null && n > this.rules.maxSeconds;
  }

  // Optional lease field: in v1.10.0 checked *after* the wrapping multiplication,
  // so 9999999999 is refused (negative) while 18446744074 becomes ~0.29 s.
  private parseLease(field: string | undefined): Lease | number {
    if (field === undefined) return this.defaultLease;
    const n = atoi(field);
    if (n === undefined) return ParseError.badInteger;
    if (this.tooLarge(n)) return ParseError.badLease;
    const ns = secondsToDuration(n);
    if (ns <= 0n) return ParseError.badLease;
    return { leaseMs: durationMs(ns), leaseSec: durationSeconds(ns) };
  }
}
