// PROTOCOL.md §1.7.6: idle keys are collected after gc-max-idle; until then
// they keep their limit and count toward max-locks.
import { eventually } from '../../helpers/eventually';
import { grant } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

describe('idle-key GC (gc-interval 0.1 s, gc-max-idle 0.4 s, max-locks 2)', () => {
  // v1.10.0's shared key space makes the kept limit visible to `l`.
  const fx = useServer({ compat: '1.10', gcInterval: 0.1, gcMaxIdle: 0.4, maxLocks: 2 });

  test('an idle key keeps its limit and its max-locks slot until collected', async () => {
    const c = await fx.connect();
    const sem = grant(await c.request('sl', 'gc-sem', '0 3'));
    expect(await c.request('r', 'gc-sem', sem.token)).toBe('ok');
    const lock = grant(await c.request('l', 'gc-lock', '0'));
    expect(await c.request('r', 'gc-lock', lock.token)).toBe('ok');
    expect(await c.request('l', 'gc-sem', '0')).toBe('error_limit_mismatch');
    expect(await c.request('l', 'gc-new', '0')).toBe('error_max_locks');
    await eventually(() => fx.server.stats().idle_semaphores.length === 0 && fx.server.stats().idle_locks.length === 0, 'GC', { timeoutMs: 3000, everyMs: 5 });
    expect(await c.request('l', 'gc-sem', '0')).toMatch(/^ok /); // a lock now
    expect(await c.request('l', 'gc-new', '0')).toMatch(/^ok /);
  });

  test('held keys and keys with waiters are never collected', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    await eventually(() => fx.server.stats().locks.length + fx.server.stats().idle_locks.length === 0, 'a clean table', { timeoutMs: 3000, everyMs: 5 });
    grant(await a.request('l', 'gc-held', '0 30'));
    expect(await b.request('e', 'gc-held', '')).toBe('queued');
    await new Promise((r) => setTimeout(r, 600)); // longer than gc-max-idle + one GC tick
    expect(fx.server.stats().locks).toEqual([expect.objectContaining({ key: 'gc-held', waiters: 1 })]);
  });
});
