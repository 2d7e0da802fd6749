// PROTOCOL.md §1.4.1, §1.4.6, §1.10: FIFO grants, try-lock, re-entrancy,
// semaphores sharing the key space, max-locks, max-waiters.
import { eventually } from '../../helpers/eventually';
import { type RawClient, grant } from '../../helpers/raw-client';
import { type ServerFixture, useServer } from '../../helpers/server';

const GRANT = /^ok [0-9a-f]{32} \d+$/;

// Sends a blocking request and waits until the server has parked it, so the
// next request is known to queue behind it.
async function queue(fx: ServerFixture, c: RawClient, cmd: string, key: string, arg: string): Promise<void> {
  const before = fx.server.blockedCount;
  c.send(`${cmd}\n${key}\n${arg}\n`);
  await eventually(() => fx.server.blockedCount > before, `${cmd} ${key} to block`, { timeoutMs: 2000, everyMs: 5 });
}

// v1.10.0: one key space for locks and semaphores (2.1: compat.spec.ts).
describe('locks and semaphores', () => {
  const fx = useServer({ compat: '1.10' });

  test('FIFO: waiters are granted in arrival order as the holder releases', async () => {
    const [a, b, c] = await Promise.all([fx.connect(), fx.connect(), fx.connect()]);
    const held = grant(await a.request('l', 'fifo', '0'));
    await queue(fx, b, 'l', 'fifo', '5');
    await queue(fx, c, 'l', 'fifo', '5');
    expect((await fx.stats()).locks.find((l) => l.key === 'fifo')!.waiters).toBe(2);
    expect(await a.request('r', 'fifo', held.token)).toBe('ok');
    const bToken = grant(await b.line()).token;
    await c.silentFor(50);
    expect(await b.request('r', 'fifo', bToken)).toBe('ok');
    expect(await c.line()).toMatch(GRANT);
  });

  test('FIFO spans single-phase and two-phase waiters (se first, then sl)', async () => {
    const [a, e, s] = await Promise.all([fx.connect(), fx.connect(), fx.connect()]);
    const one = grant(await a.request('sl', 'mixed', '0 2'));
    const two = grant(await a.request('sl', 'mixed', '0 2'));
    expect(await e.request('se', 'mixed', '2')).toBe('queued');
    await queue(fx, s, 'sl', 'mixed', '5 2');
    expect(await a.request('r', 'mixed', one.token)).toBe('ok');
    expect(await e.request('sw', 'mixed', '0')).toMatch(GRANT); // the se client got the first slot
    await s.silentFor(50);
    expect(await a.request('r', 'mixed', two.token)).toBe('ok');
    expect(await s.line()).toMatch(GRANT);
  });

  test('timeout 0 is a try-lock: timeout at once, and the waiter is gone again', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await a.request('l', 'try', '0'));
    const started = Date.now();
    expect(await b.request('l', 'try', '0')).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(200);
    expect((await fx.stats()).locks.find((l) => l.key === 'try')!.waiters).toBe(0);
  });

  test('one connection may hold several locks', async () => {
    const a = await fx.connect();
    expect(await a.request('l', 'multi-a', '0')).toMatch(GRANT);
    expect(await a.request('l', 'multi-b', '0')).toMatch(GRANT);
    const owners = (await fx.stats()).locks.filter((l) => l.key.startsWith('multi-')).map((l) => l.owner_conn_id);
    expect(owners).toHaveLength(2);
    expect(owners[0]).toBe(owners[1]);
  });

  test('the lease in the reply echoes the requested lease', async () => {
    const a = await fx.connect();
    expect(await a.request('l', 'echo', '0 45')).toMatch(/^ok [0-9a-f]{32} 45$/);
  });

  test('transcript "Semaphores and limits": the creator fixes the limit', async () => {
    const a = await fx.connect();
    expect(await a.request('sl', 's', '0 2')).toMatch(GRANT);
    expect(await a.request('sl', 's', '0 2')).toMatch(GRANT); // same connection, two slots
    expect(await a.request('sl', 's', '0 2')).toBe('timeout');
    expect(await a.request('sl', 's', '0 3')).toBe('error_limit_mismatch');
    expect(await a.request('l', 's', '0')).toBe('error_limit_mismatch');
    expect(await a.request('sl', 's', '0 1')).toBe('error_limit_mismatch');
    expect(await a.request('e', 's', '')).toBe('error_limit_mismatch');
    expect(await a.request('se', 's', '5')).toBe('error_limit_mismatch');
    const stats = await fx.stats();
    expect(stats.semaphores).toContainEqual({ key: 's', limit: 2, holders: 2, waiters: 0 });
  });

  test('a lock is a semaphore with limit 1: sl k 0 1 creates a lock', async () => {
    const a = await fx.connect();
    const { token } = grant(await a.request('sl', 'sem1', '0 1'));
    expect((await fx.stats()).locks.map((l) => l.key)).toContain('sem1');
    expect(await a.request('l', 'sem1', '0')).toBe('timeout');
    expect(await a.request('r', 'sem1', token)).toBe('ok');
    expect(await a.request('l', 'sem1', '0')).toMatch(GRANT);
  });
});

describe('blocking timeouts', () => {
  const fx = useServer({}, { concurrent: true });

  test.concurrent('a waiter times out after its timeout and leaves the queue', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await a.request('l', 'tmo', '0'));
    const started = Date.now();
    expect(await b.request('l', 'tmo', '1')).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect((await fx.stats()).locks.find((l) => l.key === 'tmo')!.waiters).toBe(0);
  });

  test.concurrent('not re-entrant: the holder queues behind itself and times out', async () => {
    const a = await fx.connect();
    grant(await a.request('l', 'reent', '0'));
    expect(await a.request('l', 'reent', '1')).toBe('timeout');
  });
});

describe('a blocked request blocks its connection (§1.7.4)', () => {
  const fx = useServer({ leaseSweepInterval: 0.1 }, { concurrent: true });

  test.concurrent('a pipelined renew is not read until the blocked l returns, by then the lease is gone', async () => {
    const [a, b] = await Promise.all([fx.connect(), fx.connect()]);
    const k1 = grant(await a.request('l', 'k1', '0 1'));
    grant(await b.request('l', 'k2', '0'));
    a.send(`l\nk2\n2\nn\nk1\n${k1.token}\n`);
    await eventually(() => fx.server.stats().idle_locks.some((i) => i.key === 'k1'), 'k1 to expire while a is blocked', { timeoutMs: 3000, everyMs: 5 });
    expect(await a.line()).toBe('timeout');
    expect(await a.line()).toBe('error');
  });
});

describe('--max-waiters 1', () => {
  const fx = useServer({ maxWaiters: 1 });

  test('error_max_waiters even for a try-lock and for enqueue', async () => {
    const [a, b, c] = await Promise.all([fx.connect(), fx.connect(), fx.connect()]);
    grant(await a.request('l', 'mw', '0'));
    expect(await b.request('e', 'mw', '')).toBe('queued');
    expect(await c.request('l', 'mw', '0')).toBe('error_max_waiters');
    expect(await c.request('l', 'mw', '5')).toBe('error_max_waiters');
    expect(await c.request('e', 'mw', '')).toBe('error_max_waiters');
    expect(await c.request('l', 'other', '0')).toMatch(GRANT); // per key
  });
});

describe('--max-locks 3', () => {
  const fx = useServer({ maxLocks: 3 });

  test('idle keys count: the 4th new key is refused while two of three are idle', async () => {
    const a = await fx.connect();
    const x1 = grant(await a.request('l', 'x1', '0'));
    const x2 = grant(await a.request('sl', 'x2', '0 2'));
    grant(await a.request('l', 'x3', '0'));
    await a.request('r', 'x1', x1.token);
    await a.request('sr', 'x2', x2.token);
    const stats = await fx.stats();
    expect(stats.idle_locks.map((i) => i.key)).toEqual(['x1']);
    expect(stats.idle_semaphores.map((i) => i.key)).toEqual(['x2']);
    expect(await a.request('l', 'x4', '0')).toBe('error_max_locks');
    expect(await a.request('e', 'x4', '')).toBe('error_max_locks');
    expect(await a.request('sl', 'x4', '0 2')).toBe('error_max_locks');
    expect(await a.request('l', 'x1', '0')).toMatch(GRANT); // existing keys still work
  });
});
