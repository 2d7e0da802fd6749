/**
 * The `stats` reply: the same JSON document dflockd produces with Go's
 * `encoding/json` (field order, `[]` never `null`, `<>&` and U+2028/9 escaped,
 * each invalid UTF-8 byte of a key shown as `\ufffd`).
 *
 * @module
 */

import type { ResourceTable } from './resource-table.js';

/** A lock (limit 1; in `'2.1'` anything taken with `l`/`e`) that has a holder or waiters. */
export interface LockStats {
  readonly key: string;
  /** Connection that acquired it; 0 when only waiters exist. */
  readonly owner_conn_id: number;
  /** Seconds left on the lease, clamped at 0 (an expired but unswept lease shows 0). */
  readonly lease_expires_in_s: number;
  readonly waiters: number;
}

/** A semaphore (limit > 1; in `'2.1'` anything taken with `sl`/`se`) that has holders or waiters. */
export interface SemaphoreStats {
  readonly key: string;
  readonly limit: number;
  readonly holders: number;
  readonly waiters: number;
}

/** A key with no holders and no waiters, kept until the idle-key GC removes it. */
export interface IdleStats {
  readonly key: string;
  readonly idle_s: number;
}

/**
 * The `stats` document, field for field as on the wire (snake_case names).
 * Returned by {@link DflockdTestServer.stats} for test assertions.
 */
export interface DflockdServerStats {
  /** Connections currently handled, including ones blocked after their client left. */
  readonly connections: number;
  readonly locks: readonly LockStats[];
  readonly semaphores: readonly SemaphoreStats[];
  readonly idle_locks: readonly IdleStats[];
  readonly idle_semaphores: readonly IdleStats[];
}

const HEX = '0123456789abcdef';

// Length of the valid UTF-8 sequence at i of a byte string, or 0 (Go's utf8.DecodeRune rules).
function utf8Width(s: string, i: number): number {
  const b0 = s.charCodeAt(i);
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = s.charCodeAt(i + j);
    return b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 >= 0xe1 && b0 <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/**
 * Go `encoding/json` string encoding of a byte string; the result is itself a
 * byte string (valid UTF-8 passes through as bytes) to be written as latin1.
 */
export function goJsonString(s: string): string {
  let out = '"';
  let from = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26) {
      i++;
      continue;
    }
    let escaped: string;
    let width = 1;
    if (c < 0x80) {
      if (c === 0x22) escaped = '\\"';
      else if (c === 0x5c) escaped = '\\\\';
      else if (c === 0x08) escaped = '\\b';
      else if (c === 0x0c) escaped = '\\f';
      else if (c === 0x0a) escaped = '\\n';
      else if (c === 0x0d) escaped = '\\r';
      else if (c === 0x09) escaped = '\\t';
      else escaped = '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
    } else {
      width = utf8Width(s, i);
      if (width === 0) {
        escaped = '\\ufffd';
        width = 1;
      } else if (c === 0xe2 && s.charCodeAt(i + 1) === 0x80 && (s.charCodeAt(i + 2) & 0xfe) === 0xa8) {
        escaped = s.charCodeAt(i + 2) === 0xa8 ? '\\u2028' : '\\u2029';
      } else {
        i += width;
        continue;
      }
    }
    out += s.slice(from, i) + escaped;
    i += width;
    from = i;
  }
  return out + s.slice(from) + '"';
}

// Go prints float64 seconds with the shortest round-trip form, like String();
// durations have nanosecond resolution, so round there first.
function seconds(ms: number): string {
  return String(Math.round(ms * 1e6) / 1e9);
}

/** Renders the `stats` JSON (as a latin1 byte string) for the table's current state. */
export function renderStats(table: ResourceTable, connections: number): string {
  const now = table.clock();
  const locks: string[] = [];
  const semaphores: string[] = [];
  const idleLocks: string[] = [];
  const idleSemaphores: string[] = [];
  for (const res of table.resources.values()) {
    const key = goJsonString(res.key);
    const waiters = res.waiters.size;
    const busy = res.holders.size > 0 || waiters > 0;
    if (!busy) {
      (res.kind === 'lock' ? idleLocks : idleSemaphores).push(`{"key":${key},"idle_s":${seconds(now - res.lastActivity)}}`);
    } else if (res.kind === 'lock') {
      let owner = 0;
      let left = 0;
      for (const h of res.holders.values()) {
        owner = h.connId;
        left = Math.max(0, h.expiresAt - now);
      }
      locks.push(`{"key":${key},"owner_conn_id":${owner},"lease_expires_in_s":${seconds(left)},"waiters":${waiters}}`);
    } else {
      semaphores.push(`{"key":${key},"limit":${res.limitText},"holders":${res.holders.size},"waiters":${waiters}}`);
    }
  }
  return (
    `{"connections":${connections},"locks":[${locks.join(',')}],"semaphores":[${semaphores.join(',')}],` +
    `"idle_locks":[${idleLocks.join(',')}],"idle_semaphores":[${idleSemaphores.join(',')}]}`
  );
}

/** Parses a rendered stats document into objects (keys decoded as UTF-8). */
export function parseStats(json: string): DflockdServerStats {
  return JSON.parse(Buffer.from(json, 'latin1').toString('utf8')) as DflockdServerStats;
}
