// PROTOCOL.md §1.3, §1.7.1, §1.7.4, §1.8, §1.10: connection lifecycle, the
// per-line read timeout, disconnect handling, connection ids and limits.
import { eventually } from '../../helpers/eventually';
import { RawClient, grant } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

const GRANT = /^ok [0-9a-f]{32} \d+$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('read timeout 0.5 s (§1.7.1)', () => {
  const fx = useServer({ readTimeout: 0.5, leaseSweepInterval: 0.1 }, { concurrent: true });

  test.concurrent('an idle connection gets error then EOF, and its locks are released', async () => {
    const c = await fx.connect();
    grant(await c.request('l', 'idle', '0 300'));
    const started = Date.now();
    expect(await c.line(2000)).toBe('error');
    await c.eof();
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(fx.server.stats().idle_locks.map((i) => i.key)).toContain('idle');
  });

  test.concurrent('a request blocked longer than the read timeout is not cut off', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await a.request('l', 'held', '0'));
    // The holder blocks on its own lock (not re-entrant) for 2 s: 4 read timeouts, yet not dropped.
    a.send('l\nheld\n2\n');
    expect(await b.request('l', 'held', '1', 3000)).toBe('timeout');
    expect(await b.request('stats', '_', '')).toMatch(/^ok \{/); // fresh deadline after the reply
    expect(await a.line(3000)).toBe('timeout');
    expect(await a.request('stats', '_', '')).toMatch(/^ok \{/);
  });

  test.concurrent('the deadline is per line: a slow sender may spread a request over several timeouts', async () => {
    const c = await fx.connect();
    c.send('l\n');
    await sleep(300);
    c.send('slow\n');
    await sleep(300);
    c.send('0\n');
    expect(await c.line()).toMatch(GRANT);
  });

  test.concurrent('any complete request resets the clock, even an invalid one', async () => {
    const c = await fx.connect();
    for (let i = 0; i < 4; i++) {
      expect(await c.request('bogus', 'x', 'y')).toBe('error');
      await sleep(300);
    }
    expect(await c.request('stats', '_', '')).toMatch(/^ok \{/);
  });

  test.concurrent('a partial line does not extend the deadline', async () => {
    const c = await fx.connect();
    c.send('st');
    await sleep(300);
    c.send('a');
    expect(await c.line(2000)).toBe('error');
    await c.eof();
  });
});

describe('disconnects with auto-release (default) (§1.8)', () => {
  const fx = useServer({ leaseSweepInterval: 0.1 });

  test('a holder that disconnects is released and the next waiter is granted at once', async () => {
    const [holder, e] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await holder.request('l', 'k3', '0 60'));
    e.send('l\nk3\n5\n');
    await eventually(() => fx.server.blockedCount === 1, 'the waiter', { timeoutMs: 2000, everyMs: 5 });
    const started = Date.now();
    await holder.destroy();
    expect(await e.line()).toMatch(GRANT);
    expect(Date.now() - started).toBeLessThan(200);
  });

  test('a lock granted to a dead blocked waiter is released again quickly', async () => {
    const [holder, dead, live] = await Promise.all([fx.connect(), fx.connect(), fx.connect()]);
    const held = grant(await holder.request('l', 'k5', '0'));
    dead.send('l\nk5\n5\n');
    await eventually(() => fx.server.blockedCount === 1, 'the first waiter', { timeoutMs: 2000, everyMs: 5 });
    live.send('l\nk5\n5\n');
    await eventually(() => fx.server.blockedCount === 2, 'the second waiter', { timeoutMs: 2000, everyMs: 5 });
    await dead.destroy();
    expect(await holder.request('r', 'k5', held.token)).toBe('ok'); // granted to the dead one first
    expect(await live.line()).toMatch(GRANT);
  });

  test('connection ids count accepted connections from 1', async () => {
    const a = await fx.connect();
    const b = await fx.connect();
    grant(await a.request('l', 'id-a', '0'));
    grant(await b.request('l', 'id-b', '0'));
    const locks = fx.server.stats().locks;
    const idA = locks.find((l) => l.key === 'id-a')!.owner_conn_id;
    const idB = locks.find((l) => l.key === 'id-b')!.owner_conn_id;
    expect(idA).toBeGreaterThanOrEqual(1);
    expect(idB).toBe(idA + 1);
  });

  test('stats counts connections, including the caller', async () => {
    const a = await fx.connect();
    await eventually(() => fx.server.connectionCount === 1, 'earlier connections to go', { timeoutMs: 2000, everyMs: 5 });
    const b = await fx.connect();
    await eventually(() => fx.server.connectionCount === 2, 'b to be counted', { timeoutMs: 2000, everyMs: 5 });
    expect(JSON.parse((await a.request('stats', '', '')).slice(3)).connections).toBe(2);
    await b.destroy();
  });
});

// v1.10.0: a disconnect while blocked goes unnoticed (2.1: compat.spec.ts).
describe('v1.10.0: a blocked connection is not watched (§1.7.4)', () => {
  const fx = useServer({ compat: '1.10', leaseSweepInterval: 0.1 });

  test('a client that disconnects while blocked is not noticed until its timeout', async () => {
    const [holder, b, d] = await Promise.all([fx.connect(), fx.connect(), fx.connect()]);
    grant(await holder.request('l', 'k4', '0'));
    b.send('l\nk4\n5\n');
    await eventually(() => fx.server.blockedCount === 1, 'b to block', { timeoutMs: 2000, everyMs: 5 });
    d.send('l\nk4\n1\n');
    await eventually(() => fx.server.blockedCount === 2, 'd to block', { timeoutMs: 2000, everyMs: 5 });
    const before = fx.server.connectionCount;
    await d.destroy();
    await sleep(50);
    expect(fx.server.stats().locks.find((l) => l.key === 'k4')!.waiters).toBe(2);
    expect(fx.server.connectionCount).toBe(before); // still counted
    await eventually(() => fx.server.stats().locks.find((l) => l.key === 'k4')!.waiters === 1, 'd to time out', { timeoutMs: 2000, everyMs: 5 });
    expect(fx.server.connectionCount).toBe(before - 1);
  });
});

// v1.10.0: with auto-release off nothing is cleaned up (2.1 still drops waiters: compat.spec.ts).
describe('--auto-release-on-disconnect=false (§1.8)', () => {
  const fx = useServer({ compat: '1.10', autoReleaseOnDisconnect: false, leaseSweepInterval: 0.1 }, { concurrent: true });

  test.concurrent('held locks outlive their connection until the lease expires', async () => {
    const [a, m] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await a.request('l', 'noar', '0 1'));
    await a.destroy();
    const started = Date.now();
    expect(await m.request('l', 'noar', '5')).toMatch(GRANT);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  test.concurrent('queued waiters of dead connections stay queued and are granted', async () => {
    const [holder, dead] = await Promise.all([fx.connect(), fx.connect()]);
    const held = grant(await holder.request('l', 'noar-q', '0'));
    grant(await dead.request('l', 'noar-q-id', '0'));
    const deadId = fx.server.stats().locks.find((l) => l.key === 'noar-q-id')!.owner_conn_id;
    expect(await dead.request('e', 'noar-q', '1')).toBe('queued');
    await dead.destroy();
    await sleep(50);
    expect(fx.server.stats().locks.find((l) => l.key === 'noar-q')!.waiters).toBe(1);
    expect(await holder.request('r', 'noar-q', held.token)).toBe('ok');
    const lock = fx.server.stats().locks.find((l) => l.key === 'noar-q')!;
    expect(lock).toMatchObject({ owner_conn_id: deadId, waiters: 0 });
  });
});

describe('--max-connections 2 (§1.3)', () => {
  const fx = useServer({ maxConnections: 2 });

  test('an extra connection is accepted and closed without a word', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    await eventually(() => fx.server.connectionCount === 2, 'two connections', { timeoutMs: 2000, everyMs: 5 });
    const c = await fx.connect();
    await c.eof();
    expect(c.received).toEqual([]);
    expect(JSON.parse((await a.request('stats', '', '')).slice(3)).connections).toBe(2);
    await b.destroy();
    await eventually(() => fx.server.connectionCount === 1, 'b to go', { timeoutMs: 2000, everyMs: 5 });
    const d = await fx.connect();
    expect(await d.request('stats', '', '')).toMatch(/^ok \{/);
  });

  test('a rejected client that already wrote sees EOF or a reset, never a reply', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    await eventually(() => fx.server.connectionCount === 2, 'two connections', { timeoutMs: 2000, everyMs: 5 });
    const c = await RawClient.connect(fx.port);
    c.send('stats\n\n\n');
    await c.eof();
    expect(c.received).toEqual([]);
    expect([undefined, 'ECONNRESET', 'EPIPE']).toContain(c.error?.code);
    await Promise.all([a.destroy(), b.destroy()]);
  });
});

describe('write timeout 0.3 s (§1.7.2)', () => {
  const fx = useServer({ writeTimeout: 0.3, maxLocks: 2000 });

  test('a client that stops reading is disconnected once a reply stays blocked, and auto-released', async () => {
    const c = await fx.connect();
    // ~1000 keys make every stats reply ~80 KB; 300 of them overflow any socket buffer.
    let batch = '';
    for (let i = 0; i < 1000; i++) batch += `l\nwt-${i}\n0\n`;
    c.send(batch);
    await eventually(() => c.received.length === 1000, '1000 grants', { timeoutMs: 5000, everyMs: 5 });
    c.socket.pause();
    c.send('stats\n\n\n'.repeat(300));
    await eventually(() => fx.server.connectionCount === 0, 'the write timeout', { timeoutMs: 5000, everyMs: 5 });
    expect(fx.server.stats().locks).toEqual([]);
  });
});
