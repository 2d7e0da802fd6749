/**
 * Renders `stats` snapshots for people (aligned tables) and for programs (JSON).
 *
 * @module
 */

import type { Stats } from '../protocol/stats.js';

/** One server's answer in a snapshot: its stats, or why they could not be read. */
export type ServerSnapshot = { readonly server: string; readonly stats: Stats } | { readonly server: string; readonly error: Error };

/**
 * The JSON form of a snapshot: `{ time, servers: [...] }`, each server either the typed
 * {@link Stats} fields (camelCase, without `raw`) or `{ server, error: { code, message } }`.
 *
 * @example
 * ```ts
 * JSON.stringify(snapshotJson(snapshot, new Date()));
 * ```
 */
export function snapshotJson(snapshot: readonly ServerSnapshot[], time: Date): object {
  return {
    time: time.toISOString(),
    servers: snapshot.map((s) => {
      if ('error' in s) return { server: s.server, error: { code: (s.error as { code?: unknown }).code ?? s.error.name, message: s.error.message } };
      const { raw: _raw, ...typed } = s.stats;
      return { ...typed, server: s.server };
    }),
  };
}

/**
 * A readable report of a snapshot: per server its connections, held locks (owner, lease left,
 * waiters), semaphores (holders/limit, waiters) and idle keys, sorted by key.
 *
 * @example
 * ```ts
 * process.stdout.write(renderSnapshot(snapshot));
 * ```
 */
export function renderSnapshot(snapshot: readonly ServerSnapshot[]): string {
  return snapshot.map(renderServer).join('\n');
}

function renderServer(s: ServerSnapshot): string {
  if ('error' in s) return `${s.server}  UNREACHABLE: ${printable(s.error.message)}\n`;
  const { locks, semaphores, idleLocks, idleSemaphores, connections } = s.stats;
  const byKey = <T extends { key: string }>(rows: readonly T[]): T[] => [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const idle = byKey([...idleLocks.map((i) => ({ ...i, kind: 'lock' })), ...idleSemaphores.map((i) => ({ ...i, kind: 'semaphore' }))]);
  return [
    `${s.server}  connections: ${connections}`,
    section(
      'Locks',
      ['KEY', 'OWNER', 'LEASE LEFT', 'WAITERS'],
      // A row with no owner is a key that only has waiters (the holder just released or expired).
      byKey(locks).map((l) => [printable(l.key), l.ownerConnId > 0 ? `conn ${l.ownerConnId}` : '-', l.ownerConnId > 0 ? seconds(l.leaseExpiresInS) : '-', String(l.waiters)]),
    ),
    section(
      'Semaphores',
      ['KEY', 'HOLDERS/LIMIT', 'WAITERS'],
      byKey(semaphores).map((m) => [printable(m.key), `${m.holders}/${m.limit}`, String(m.waiters)]),
    ),
    section(
      'Idle keys',
      ['KEY', 'KIND', 'IDLE'],
      idle.map((i) => [printable(i.key), i.kind, seconds(i.idleS)]),
    ),
    '',
  ].join('\n');
}

// The server reports nanosecond-precise floats (32.529319420); a tenth is what a person reads.
function seconds(s: number): string {
  return `${s.toFixed(1)}s`;
}

function section(title: string, header: readonly string[], rows: readonly string[][]): string {
  if (rows.length === 0) return `${title}: none`;
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string => `  ${cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`;
  return [`${title} (${rows.length})`, line(header), ...rows.map(line)].join('\n');
}

// Keys may hold any non-whitespace character, escape sequences included; printed raw, a key
// could rewrite the operator's terminal. Control characters are shown as \xNN instead.
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
