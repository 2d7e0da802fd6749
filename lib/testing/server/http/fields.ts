/**
 * Checks of the values an HTTP call carries (PROTOCOL.md §3.3): keys from the
 * path, tokens, whole seconds and limits from the body. Every failure is
 * `400 bad_request` naming the field.
 *
 * @module
 */

import type { CompatRules } from '../compat.js';
import { badRequest } from './errors.js';

const MAX_KEY_BYTES = 256;
const TOKEN = /^[0-9a-f]{32}$/;

/**
 * Percent-decodes one path segment into the byte string the lock table uses
 * (each char one byte, as keys arrive over TCP), then checks it is a key:
 * 1–256 bytes and no ASCII whitespace.
 */
export function keyFromSegment(segment: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x25) {
      const hex = segment.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw badRequest('key: malformed percent-encoding');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      // Node's parser refuses raw non-ASCII bytes in a request target, so only ASCII arrives here.
      bytes.push(c);
    }
  }
  if (bytes.length === 0 || bytes.length > MAX_KEY_BYTES) throw badRequest(`key must be 1-${MAX_KEY_BYTES} bytes (got ${bytes.length})`);
  for (const b of bytes) {
    if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) throw badRequest('key must not contain whitespace');
  }
  return Buffer.from(bytes).toString('latin1');
}

/** A lock token: 32 lowercase hex characters. */
export function token(body: Record<string, unknown>): string {
  const value = body.token;
  if (typeof value !== 'string' || !TOKEN.test(value)) throw badRequest('token must be 32 lowercase hex characters');
  return value;
}

type Rule = { readonly min: 0 | 1 };

// Go decodes a missing (or null) field as its zero value; `undefined` here lets each caller pick its default.
function integer(body: Record<string, unknown>, name: string, rule: Rule, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badRequest(`${name} must be an integer`);
  if (value < rule.min) throw badRequest(`${name} must be >= ${rule.min} (got ${value})`);
  if (value > max) throw badRequest(`${name} must be <= ${max} (got ${value})`);
  return value;
}

/**
 * A timeout in whole seconds, 0 (try once) when absent. `maxSeconds` is the
 * mode's cap ({@link CompatRules.maxSeconds}: 9223372036 in dflockd 2.x).
 */
export function timeoutSeconds(body: Record<string, unknown>, name: 'acquire_timeout_s' | 'timeout_s', maxSeconds: number): number {
  return integer(body, name, { min: 0 }, maxSeconds) ?? 0;
}

/** An optional lease in whole seconds (1 to `maxSeconds`); absent means the server default. */
export function leaseSeconds(body: Record<string, unknown>, maxSeconds: number): number | undefined {
  return integer(body, 'lease_ttl_s', { min: 1 }, maxSeconds);
}

/** A semaphore limit (≥ 1, required: a missing one is Go's zero value). */
export function limit(body: Record<string, unknown>): number {
  const value = integer(body, 'limit', { min: 1 }, Number.MAX_SAFE_INTEGER);
  if (value === undefined) throw badRequest('limit must be >= 1 (got 0)');
  return value;
}
