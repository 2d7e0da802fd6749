// PROTOCOL.md §1.4.7: the exact stats document.
import { ResourceTable } from '../../../lib/testing/server/resource-table';
import { renderStats } from '../../../lib/testing/server/stats';
import { TokenSource } from '../../../lib/testing/server/tokens';
import { grant, statsOf } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

describe('stats (§1.4.7)', () => {
  const fx = useServer();

  test('an empty server: every array present, never null', async () => {
    const c = await fx.connect();
    expect(await c.request('stats', '', '')).toBe(
      'ok {"connections":1,"locks":[],"semaphores":[],"idle_locks":[],"idle_semaphores":[]}',
    );
  });

  test('field order and types of every entry kind', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    const lock = grant(await a.request('l', 'st-lock', '0 10'));
    grant(await a.request('sl', 'st-sem', '0 3'));
    const idle = grant(await a.request('l', 'st-idle', '0'));
    await a.request('r', 'st-idle', idle.token);
    const idleSem = grant(await a.request('sl', 'st-idle-sem', '0 2'));
    await a.request('sr', 'st-idle-sem', idleSem.token);
    expect(await b.request('e', 'st-lock', '')).toBe('queued');
    const raw = await a.request('stats', '_', '_');
    expect(raw).toMatch(
      /^ok \{"connections":2,"locks":\[\{"key":"st-lock","owner_conn_id":\d+,"lease_expires_in_s":\d+\.\d+,"waiters":1\}\],"semaphores":\[\{"key":"st-sem","limit":3,"holders":1,"waiters":0\}\],"idle_locks":\[\{"key":"st-idle","idle_s":[\d.e-]+\}\],"idle_semaphores":\[\{"key":"st-idle-sem","idle_s":[\d.e-]+\}\]\}$/,
    );
    const stats = statsOf(raw);
    expect(stats.locks[0]!.lease_expires_in_s).toBeGreaterThan(9);
    expect(stats.locks[0]!.lease_expires_in_s).toBeLessThanOrEqual(10);
    expect(lock.token).toHaveLength(32);
  });

  test('keys are escaped like Go encoding/json (<, >, & and quotes)', async () => {
    const c = await fx.connect();
    grant(await c.request('l', 'a<b>&"c"\\', '0'));
    const raw = await c.request('stats', '', '');
    expect(raw).toContain('"key":"a\\u003cb\\u003e\\u0026\\"c\\"\\\\"');
    expect(statsOf(raw).locks.map((l) => l.key)).toContain('a<b>&"c"\\');
  });

  test('server.stats() is the same document as objects', async () => {
    const c = await fx.connect();
    grant(await c.request('l', 'st-obj', '0'));
    const wire = statsOf(await c.request('stats', '', ''));
    const local = fx.server.stats();
    expect(local.connections).toBe(wire.connections);
    expect(local.locks.map((l) => l.key)).toEqual(wire.locks.map((l) => l.key));
  });
});

describe('renderStats edge cases', () => {
  test('a lock with waiters but no holder shows owner 0 and lease 0; a semaphore shows holders 0', () => {
    const table = new ResourceTable({ maxLocks: 10, maxWaiters: 0, gcMaxIdleMs: 1000 }, new TokenSource(), () => 1000);
    const lock = table.open('w-only', 'w-only', 'lock', 1, '1');
    const sem = table.open('s-only', 's-only', 'semaphore', 5, '5');
    if (typeof lock === 'string' || typeof sem === 'string') throw new Error('open failed');
    table.addWaiter(lock, 7, 1000);
    table.addWaiter(sem, 7, 1000);
    expect(renderStats(table, 3)).toBe(
      '{"connections":3,"locks":[{"key":"w-only","owner_conn_id":0,"lease_expires_in_s":0,"waiters":1}],' +
        '"semaphores":[{"key":"s-only","limit":5,"holders":0,"waiters":1}],"idle_locks":[],"idle_semaphores":[]}',
    );
  });

  test('limits beyond 2^53 are printed exactly', () => {
    const table = new ResourceTable({ maxLocks: 10, maxWaiters: 0, gcMaxIdleMs: 1000 }, new TokenSource(), () => 0);
    const sem = table.open('huge', 'huge', 'semaphore', 9223372036854775807, '9223372036854775807');
    if (typeof sem === 'string') throw new Error('open failed');
    table.tryGrant(sem, 1, 1000);
    expect(renderStats(table, 0)).toContain('"limit":9223372036854775807,');
  });
});
