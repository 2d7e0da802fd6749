// PROTOCOL.md §1.4.4, §1.4.5, §1.9 and the "Two-phase" transcript of §1.14.
import { eventually } from '../../helpers/eventually';
import { grant } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

const lockOf = (fx: ReturnType<typeof useServer>, key: string) => fx.server.stats().locks.find((l) => l.key === key);

describe('two-phase enqueue/wait', () => {
  const fx = useServer({ leaseSweepInterval: 0.1 });

  test('transcript: acquired at e, w returns the same token and resets the lease, then not enqueued', async () => {
    const c = await fx.connect();
    const e = grant(await c.request('e', 't1', '5'));
    expect(e).toMatchObject({ status: 'acquired', lease: 5 });
    await eventually(() => lockOf(fx, 't1')!.lease_expires_in_s < 4.8, 'the lease to run', { timeoutMs: 2000, everyMs: 5 });
    const w = grant(await c.request('w', 't1', '0'));
    expect(w).toEqual({ status: 'ok', token: e.token, lease: 5 });
    expect(lockOf(fx, 't1')!.lease_expires_in_s).toBeGreaterThan(4.9);
    expect(await c.request('w', 't1', '0')).toBe('error_not_enqueued');
  });

  test('transcript: queued, already enqueued, w timeout dequeues, then not enqueued', async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    const held = grant(await holder.request('l', 't3', '0'));
    expect(await c.request('e', 't3', '')).toBe('queued');
    expect(await c.request('e', 't3', '')).toBe('error_already_enqueued');
    expect(lockOf(fx, 't3')!.waiters).toBe(1);
    expect(await c.request('w', 't3', '0')).toBe('timeout');
    expect(lockOf(fx, 't3')!.waiters).toBe(0);
    expect(await c.request('w', 't3', '1')).toBe('error_not_enqueued');
    // It lost its place: releasing does not hand the lock to it.
    expect(await holder.request('r', 't3', held.token)).toBe('ok');
    expect(fx.server.stats().idle_locks.map((i) => i.key)).toContain('t3');
  });

  test('a blocked w receives the grant when the holder releases', async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    const held = grant(await holder.request('l', 'tw', '0'));
    expect(await c.request('e', 'tw', '7')).toBe('queued');
    c.send('w\ntw\n5\n');
    await eventually(() => fx.server.blockedCount === 1, 'w to block', { timeoutMs: 2000, everyMs: 5 });
    expect(await holder.request('r', 'tw', held.token)).toBe('ok');
    const w = grant(await c.line());
    expect(w.lease).toBe(7);
    expect(await c.request('r', 'tw', w.token)).toBe('ok');
  });

  test('granted while not waiting: w returns at once with a full lease', async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    const held = grant(await holder.request('l', 'tg', '0'));
    expect(await c.request('e', 'tg', '5')).toBe('queued');
    expect(await holder.request('r', 'tg', held.token)).toBe('ok');
    await eventually(() => lockOf(fx, 'tg')!.lease_expires_in_s < 4.8, 'the granted lease to run', { timeoutMs: 2000, everyMs: 5 });
    const w = grant(await c.request('w', 'tg', '0'));
    expect(w.lease).toBe(5);
    expect(lockOf(fx, 'tg')!.lease_expires_in_s).toBeGreaterThan(4.9);
  });

  test('r removes an acquired entry; e is allowed again', async () => {
    const c = await fx.connect();
    const e = grant(await c.request('e', 'tr', ''));
    expect(await c.request('r', 'tr', e.token)).toBe('ok');
    expect(await c.request('w', 'tr', '0')).toBe('error_not_enqueued');
    expect(await c.request('e', 'tr', '')).toMatch(/^acquired /);
  });

  test('entries are per connection: another connection is not enqueued', async () => {
    const [c, d] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await c.request('e', 'tc', ''));
    expect(await d.request('w', 'tc', '0')).toBe('error_not_enqueued');
  });

  test('several keys may be enqueued at once', async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await holder.request('l', 'q1', '0'));
    grant(await holder.request('l', 'q2', '0'));
    expect(await c.request('e', 'q1', '')).toBe('queued');
    expect(await c.request('e', 'q2', '')).toBe('queued');
    expect(lockOf(fx, 'q1')!.waiters).toBe(1);
    expect(lockOf(fx, 'q2')!.waiters).toBe(1);
  });

  test('a queued enqueue is dropped when its connection closes (auto-release)', async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await holder.request('l', 'tq', '0'));
    expect(await c.request('e', 'tq', '')).toBe('queued');
    expect(lockOf(fx, 'tq')!.waiters).toBe(1);
    await c.destroy();
    await eventually(() => lockOf(fx, 'tq')!.waiters === 0, 'the waiter to go', { timeoutMs: 2000, everyMs: 5 });
  });
});

describe('two-phase leases that run out (fast sweep)', () => {
  const fx = useServer({ leaseSweepInterval: 0.1 }, { concurrent: true });

  test.concurrent('never a stale token (v1.10.1): a queued grant that expired before w gives error_lease_expired', async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    const held = grant(await holder.request('l', 't4', '0'));
    expect(await c.request('e', 't4', '1')).toBe('queued');
    expect(await holder.request('r', 't4', held.token)).toBe('ok'); // granted to c, lease 1 s running
    await eventually(() => fx.server.stats().idle_locks.some((i) => i.key === 't4'), 'the sweep', { timeoutMs: 3000, everyMs: 5 });
    expect(await c.request('e', 't4', '1')).toBe('error_already_enqueued'); // entry kept until w
    expect(await c.request('w', 't4', '5')).toBe('error_lease_expired');
    expect(await c.request('w', 't4', '0')).toBe('error_not_enqueued');
    expect(await c.request('e', 't4', '1')).toMatch(/^acquired /);
  });

  test.concurrent('acquired at e and swept before w: error_not_enqueued', async () => {
    const c = await fx.connect();
    grant(await c.request('e', 't5', '1'));
    await eventually(() => fx.server.stats().idle_locks.some((i) => i.key === 't5'), 'the sweep', { timeoutMs: 3000, everyMs: 5 });
    expect(await c.request('w', 't5', '0')).toBe('error_not_enqueued');
  });
});

describe('two-phase without a sweep in reach', () => {
  const fx = useServer({ leaseSweepInterval: 60 }, { concurrent: true });

  test.concurrent('acquired at e, expired before w (unswept): error_lease_expired, and the slot is freed', async () => {
    const [c, d] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await c.request('e', 't6_0', '1'));
    d.send('l\nt6_0\n5\n');
    await eventually(() => lockOf(fx, 't6_0')?.lease_expires_in_s === 0, 'expiry', { timeoutMs: 2000, everyMs: 5 });
    expect(await c.request('w', 't6_0', '0')).toBe('error_lease_expired');
    expect(await d.line()).toMatch(/^ok [0-9a-f]{32} 33$/); // evicted and granted on
    expect(await c.request('w', 't6_0', '0')).toBe('error_not_enqueued');
  });
});

// v1.10.0: one key space, so the command only selects the code path (2.1: compat.spec.ts).
describe('two-phase in v1.10.0', () => {
  const fx = useServer({ compat: '1.10' });

  test('e/se and w/sw are interchangeable at the wait step', async () => {
    const c = await fx.connect();
    const se = grant(await c.request('se', 'tx-sem', '3'));
    expect(grant(await c.request('w', 'tx-sem', '0')).token).toBe(se.token);
    const e = grant(await c.request('e', 'tx-lock', ''));
    expect(grant(await c.request('sw', 'tx-lock', '0')).token).toBe(e.token);
  });
});
