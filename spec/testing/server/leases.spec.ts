// PROTOCOL.md §1.7.5 and §1.4.2/§1.4.3: lease expiry by the sweep, early
// eviction, release/renew of an expired lease, ownership for auto-release.
import { eventually } from '../../helpers/eventually';
import { grant } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

const GRANT = /^ok [0-9a-f]{32} \d+$/;

describe('lease expiry with a fast sweep (0.1 s)', () => {
  const fx = useServer({ leaseSweepInterval: 0.1 }, { concurrent: true });

  test.concurrent('an expired lease is swept and the waiter gets the lock', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    const { token } = grant(await a.request('l', 'exp', '0 1'));
    const started = Date.now();
    expect(await b.request('l', 'exp', '3')).toMatch(GRANT);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(1500);
    // The expired holder is not told; its next renew or release fails.
    expect(await a.request('n', 'exp', token)).toBe('error');
    expect(await a.request('r', 'exp', token)).toBe('error');
  });

  test.concurrent('an idle expired lock moves to idle_locks after the sweep', async () => {
    const a = await fx.connect();
    grant(await a.request('l', 'exp-idle', '0 1'));
    await eventually(() => fx.server.stats().idle_locks.some((i) => i.key === 'exp-idle'), 'the sweep', { timeoutMs: 2000, everyMs: 5 });
  });

  test.concurrent('renewing keeps a lease alive past its original end', async () => {
    const a = await fx.connect();
    const { token } = grant(await a.request('l', 'exp-renew', '0 1'));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 400));
      expect(await a.request('n', 'exp-renew', `${token} 1`)).toBe('ok 1');
    }
    expect(await a.request('r', 'exp-renew', token)).toBe('ok');
  });
});

describe('lease expiry without a sweep in reach (sweep every 60 s)', () => {
  const fx = useServer({ leaseSweepInterval: 60 }, { concurrent: true });

  test.concurrent('stats clamps an expired, unswept lease at 0; release still succeeds', async () => {
    const a = await fx.connect();
    const { token } = grant(await a.request('l', 'unswept', '0 1'));
    await eventually(() => fx.server.stats().locks.find((l) => l.key === 'unswept')?.lease_expires_in_s === 0, 'expiry', { timeoutMs: 2000, everyMs: 5 });
    expect(fx.server.stats().locks.find((l) => l.key === 'unswept')).toBeDefined();
    expect(await a.request('r', 'unswept', token)).toBe('ok');
  });

  test.concurrent('renewing an expired lease fails, evicts it, and grants the next waiter', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    const { token } = grant(await a.request('l', 'renew-exp', '0 1'));
    b.send('l\nrenew-exp\n10\n');
    await eventually(() => fx.server.stats().locks.find((l) => l.key === 'renew-exp')?.lease_expires_in_s === 0, 'expiry', { timeoutMs: 2000, everyMs: 5 });
    await b.silentFor(20); // not swept: b still waits
    expect(await a.request('n', 'renew-exp', token)).toBe('error');
    expect(await b.line()).toMatch(GRANT);
  });

  test.concurrent('l on the key evicts an expired holder at once (early eviction)', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    const { token } = grant(await a.request('l', 'early', '0 1'));
    await eventually(() => fx.server.stats().locks.find((l) => l.key === 'early')?.lease_expires_in_s === 0, 'expiry', { timeoutMs: 2000, everyMs: 5 });
    expect(await b.request('l', 'early', '0')).toMatch(GRANT);
    expect(await a.request('r', 'early', token)).toBe('error');
  });

  test.concurrent('e on the key evicts an expired holder at once too', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    const { token } = grant(await a.request('l', 'early-e', '0 1'));
    await eventually(() => fx.server.stats().locks.find((l) => l.key === 'early-e')?.lease_expires_in_s === 0, 'expiry', { timeoutMs: 2000, everyMs: 5 });
    expect(await b.request('e', 'early-e', '')).toMatch(/^acquired [0-9a-f]{32} 33$/);
    expect(await a.request('r', 'early-e', token)).toBe('error');
  });
});

describe('ownership (§1.6)', () => {
  const fx = useServer();

  test('renewing from another connection does not transfer ownership', async () => {
    const [a, c] = await Promise.all([fx.connect(), fx.connect()]);
    const { token } = grant(await a.request('l', 'own', '0'));
    expect(await c.request('n', 'own', `${token} 100`)).toBe('ok 100');
    await a.destroy();
    await eventually(() => fx.server.stats().idle_locks.some((i) => i.key === 'own'), 'auto-release', { timeoutMs: 2000, everyMs: 5 });
    expect(await c.request('n', 'own', token)).toBe('error');
  });
});
