// The compat modes over real sockets: every rule where dflockd 2.1 and v1.10.0
// answer differently (PROTOCOL.md Part 2, esp. §2.6, §2.7, §2.9), one table
// run in both modes with the answer expected in each.
import { fenceOf } from '../../../lib/protocol/fence';
import type { CompatMode } from '../../../lib/testing/server/compat';
import { DflockdTestServer } from '../../../lib/testing/server/test-server';
import { wallClockNanos } from '../../../lib/testing/server/tokens';
import { eventually } from '../../helpers/eventually';
import { EOF, RawClient, grant, statsOf } from '../../helpers/raw-client';
import { type ServerFixture, useServer } from '../../helpers/server';

const MODES: readonly CompatMode[] = ['2.1', '1.10'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Step = readonly [cmd: string, key: string, arg: string];
type PerMode = Readonly<Record<CompatMode, readonly string[]>>;

// Tokens are masked as T, stats documents as {…}; `{n}` in an argument is the token of reply n.
function mask(reply: string): string {
  return reply.startsWith('ok {') ? 'ok {…}' : reply.replace(/\b[0-9a-f]{32}\b/g, 'T');
}

async function transcript(c: RawClient, steps: readonly Step[]): Promise<string[]> {
  const replies: string[] = [];
  for (const [cmd, key, arg] of steps) {
    const filled = arg.replace(/\{(\d+)\}/g, (_m, i: string) => grant(replies[Number(i)]!).token);
    replies.push(await c.request(cmd, key, filled));
  }
  return replies.map(mask);
}

const TRANSCRIPTS: ReadonlyArray<[name: string, steps: readonly Step[], expected: PerMode]> = [
  [
    'ping answers ok, key and argument ignored (v1.14+)',
    [['ping', '_', ''], ['ping', ' odd key ', 'junk junk'], ['stats', '_', '']],
    { '2.1': ['ok', 'ok', 'ok {…}'], '1.10': ['error', 'error', 'ok {…}'] },
  ],
  [
    'locks and semaphores have separate key spaces (v1.14+)',
    [['l', 'ks', '0'], ['sl', 'ks', '0 3'], ['e', 'ks', ''], ['se', 'ks', '3'], ['sl', 'ks', '0 4']],
    {
      '2.1': ['ok T 33', 'ok T 33', 'queued', 'acquired T 33', 'error_limit_mismatch'],
      '1.10': ['ok T 33', 'error_limit_mismatch', 'queued', 'error_already_enqueued', 'error_limit_mismatch'],
    },
  ],
  [
    'r and n reach only their own kind: a semaphore token needs sr/sn',
    [['sl', 'kr', '0 2'], ['n', 'kr', '{0} 5'], ['r', 'kr', '{0}'], ['sn', 'kr', '{0} 6'], ['sr', 'kr', '{0}']],
    { '2.1': ['ok T 33', 'error', 'error', 'ok 6', 'ok'], '1.10': ['ok T 33', 'ok 5', 'ok', 'error', 'error'] },
  ],
  [
    'w and sw reach only their own kind',
    [['e', 'kw', ''], ['sw', 'kw', '0'], ['w', 'kw', '0'], ['se', 'kw2', '2'], ['w', 'kw2', '0'], ['sw', 'kw2', '0']],
    {
      '2.1': ['acquired T 33', 'error_not_enqueued', 'ok T 33', 'acquired T 33', 'error_not_enqueued', 'ok T 33'],
      '1.10': ['acquired T 33', 'ok T 33', 'error_not_enqueued', 'acquired T 33', 'ok T 33', 'error_not_enqueued'],
    },
  ],
  [
    'seconds above 9223372036 are refused, the connection stays open (v1.15+); v1.10.0 wraps them',
    [
      ['l', 'big1', '9223372036'],
      ['l', 'big2', '9223372037'],
      ['l', 'big3', '0 18446744074'],
      ['l', 'big4', '0 9223372036'],
      ['n', 'big4', '{3} 18446744074'],
      ['n', 'big4', '{3} 9223372036'],
      ['e', 'big5', '9999999999'],
      ['e', 'big6', ''],
      ['w', 'big6', '9999999999'],
      ['sl', 'big7', '0 9223372036854775807 9223372037'],
      ['sl', 'big8', '0 9223372036854775807'],
      ['stats', '_', ''],
    ],
    {
      '2.1': ['ok T 33', 'error', 'error', 'ok T 9223372036', 'error', 'ok 9223372036', 'error', 'acquired T 33', 'error', 'error', 'ok T 33', 'ok {…}'],
      '1.10': ['ok T 33', 'ok T 33', 'ok T 33', 'ok T 9223372036', 'ok 0', 'ok 9223372036', 'acquired T -8446744074', 'acquired T 33', 'ok T 33', 'error', 'ok T 33', 'ok {…}'],
    },
  ],
  [
    'a held key: timeout 9999999999 is refused in 2.1, an immediate timeout in v1.10.0',
    [['l', 'bigt', '0'], ['l', 'bigt', '9999999999'], ['l', 'bigt', '0']],
    { '2.1': ['ok T 33', 'error', 'timeout'], '1.10': ['ok T 33', 'timeout', 'timeout'] },
  ],
  [
    'e takes zero or one field (v2.0+); the connection stays open',
    [['e', 'es', '30 junk'], ['e', 'es', '_'], ['e', 'es', '3 4'], ['e', 'es', '  7 \t'], ['e', 'es2', ''], ['se', 'es3', '2 5 9'], ['stats', '_', '']],
    {
      '2.1': ['error', 'error', 'error', 'acquired T 7', 'acquired T 33', 'error', 'ok {…}'],
      '1.10': ['error', 'error', 'error', 'acquired T 7', 'acquired T 33', 'error', 'ok {…}'],
    },
  ],
  [
    'pub/sub commands are unknown (removed in v2.0; never in v1.10.0)',
    [['listen', 'a.b', ''], ['unlisten', 'a.b', ''], ['signal', 'a.b', 'hi'], ['stats', '_', '']],
    { '2.1': ['error', 'error', 'error', 'ok {…}'], '1.10': ['error', 'error', 'error', 'ok {…}'] },
  ],
];

function waitersOf(fx: ServerFixture, key: string): number {
  const s = fx.server.stats();
  return [...s.locks, ...s.semaphores].filter((e) => e.key === key).reduce((n, e) => n + e.waiters, 0);
}

function held(fx: ServerFixture, key: string): boolean {
  const s = fx.server.stats();
  return s.locks.some((l) => l.key === key && l.owner_conn_id > 0) || s.semaphores.some((x) => x.key === key && x.holders > 0);
}

describe.each(MODES)('compat %s: request transcripts', (mode) => {
  const fx = useServer({ compat: mode, leaseSweepInterval: 0.1 });

  test('the server reports its mode', () => {
    expect(fx.server.compat).toBe(mode);
  });

  test.each(TRANSCRIPTS)('%s', async (_name, steps, expected) => {
    const c = await fx.connect();
    expect(await transcript(c, steps)).toEqual(expected[mode]);
  });

  test('stats files a key by kind (2.1: by the command, prefixes stripped; 1.10: by the limit)', async () => {
    const c = await fx.connect();
    grant(await c.request('sl', 'one', '0 1'));
    grant(await c.request('l', 'both', '0'));
    await c.request('sl', 'both', '0 3');
    const stats = statsOf(await c.request('stats', '_', ''));
    const where = (key: string) => [stats.locks.some((l) => l.key === key), stats.semaphores.some((s) => s.key === key)];
    if (mode === '2.1') {
      expect(where('one')).toEqual([false, true]);
      expect(stats.semaphores).toContainEqual({ key: 'one', limit: 1, holders: 1, waiters: 0 });
      expect(where('both')).toEqual([true, true]);
    } else {
      expect(where('one')).toEqual([true, false]);
      expect(where('both')).toEqual([true, false]);
    }
    expect(JSON.stringify(stats)).not.toMatch(/"(lock|sem):/);
  });

  test('a late w after the queued grant expired and was swept (§1.4.5)', async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    const h = grant(await holder.request('l', 'stale', '0'));
    expect(await c.request('e', 'stale', '1')).toBe('queued');
    expect(await holder.request('r', 'stale', h.token)).toBe('ok'); // granted to c's entry, lease 1 s
    await eventually(() => fx.server.stats().idle_locks.some((i) => i.key === 'stale'), 'the grant to expire and be swept', { timeoutMs: 3000, everyMs: 5 });
    const reply = await c.request('w', 'stale', '5');
    if (mode === '2.1') {
      expect(reply).toBe('error_lease_expired');
    } else {
      const stale = grant(reply);
      expect(stale.lease).toBe(1);
      expect(await c.request('n', 'stale', stale.token)).toBe('error');
      expect(await c.request('r', 'stale', stale.token)).toBe('error');
    }
  });
});

describe.each<[CompatMode, boolean, string]>([
  ['2.1', true, 'ok'],
  ['1.10', false, 'error_lease_expired'],
])('compat %s with staleTokenOnWait: %s', (mode, staleTokenOnWait, expected) => {
  const fx = useServer({ compat: mode, staleTokenOnWait, leaseSweepInterval: 0.1 });

  test(`the late w answers ${expected}`, async () => {
    const [holder, c] = await Promise.all([fx.connect(), fx.connect()]);
    const h = grant(await holder.request('l', 'st', '0'));
    expect(await c.request('e', 'st', '1')).toBe('queued');
    expect(await holder.request('r', 'st', h.token)).toBe('ok');
    await eventually(() => fx.server.stats().idle_locks.some((i) => i.key === 'st'), 'the grant to expire and be swept', { timeoutMs: 3000, everyMs: 5 });
    expect((await c.request('w', 'st', '5')).split(' ')[0]).toBe(expected);
  });
});

// A blocked request of each kind, set up on `c` behind a holder on `h`.
const BLOCKERS: ReadonlyArray<[name: string, hold: Step, before: Step | null, blocked: Step]> = [
  ['l', ['l', 'pc-l', '0'], null, ['l', 'pc-l', '5']],
  ['sl', ['sl', 'pc-sl', '0 1'], null, ['sl', 'pc-sl', '5 1']],
  ['w', ['l', 'pc-w', '0'], ['e', 'pc-w', ''], ['w', 'pc-w', '5']],
  ['sw', ['sl', 'pc-sw', '0 1'], ['se', 'pc-sw', '1'], ['sw', 'pc-sw', '5']],
];

describe.each(MODES)('compat %s: a client that disconnects while blocked', (mode) => {
  const fx = useServer({ compat: mode });

  test.each(BLOCKERS)('in %s', async (name, hold, before, blocked) => {
    const [h, c] = await Promise.all([fx.connect(), fx.connect()]);
    grant(await h.request(...hold));
    grant(await c.request('l', `${name}-own`, '0 60'));
    if (before) expect(await c.request(...before)).toBe('queued');
    c.send(`${blocked.join('\n')}\n`);
    await eventually(() => fx.server.blockedCount === 1, 'the request to block', { timeoutMs: 2000, everyMs: 5 });
    const count = fx.server.connectionCount;
    const started = Date.now();
    await c.destroy();
    if (mode === '2.1') {
      // Noticed within ~60 ms: its waiter leaves, the connection ends, its own lock is released.
      await eventually(() => waitersOf(fx, hold[1]) === 0 && fx.server.connectionCount === count - 1, 'the waiter to go', { timeoutMs: 1000, everyMs: 5 });
      expect(Date.now() - started).toBeLessThan(100);
      expect(fx.server.blockedCount).toBe(0);
      expect(held(fx, `${name}-own`)).toBe(false);
      expect(statsOf(await h.request('stats', '_', '')).connections).toBe(count - 1);
    } else {
      await sleep(100);
      expect(waitersOf(fx, hold[1])).toBe(1);
      expect(fx.server.connectionCount).toBe(count); // still counted, still blocked
      expect(held(fx, `${name}-own`)).toBe(true);
    }
  });
});

describe.each(MODES)('compat %s with auto-release off: a disconnect', (mode) => {
  const fx = useServer({ compat: mode, autoReleaseOnDisconnect: false });

  test('keeps held locks in both modes; drops waiters and enqueues only in 2.1 (v1.15+)', async () => {
    const [h, c, d] = await Promise.all([fx.connect(), fx.connect(), fx.connect()]);
    grant(await h.request('l', 'dq', '0'));
    grant(await c.request('l', 'dq-held', '0 60'));
    expect(await c.request('e', 'dq', '')).toBe('queued');
    d.send('l\ndq\n5\n');
    await eventually(() => fx.server.blockedCount === 1 && waitersOf(fx, 'dq') === 2, 'two waiters', { timeoutMs: 2000, everyMs: 5 });
    await c.destroy();
    if (mode === '2.1') {
      await eventually(() => waitersOf(fx, 'dq') === 1, 'the enqueue to go', { timeoutMs: 1000, everyMs: 5 });
    } else {
      await sleep(100);
      expect(waitersOf(fx, 'dq')).toBe(2);
    }
    expect(held(fx, 'dq-held')).toBe(true);
  });
});

describe.each(MODES)('compat %s: graceful stop', (mode) => {
  afterEach(() => RawClient.closeAll());

  test('a blocked request gets error; what follows on an existing connection', async () => {
    const server = new DflockdTestServer({ compat: mode, port: 0, shutdownTimeout: 5 });
    const port = await server.start();
    try {
      const [a, b, idle] = await Promise.all([0, 1, 2].map(() => RawClient.connect(port)));
      grant(await a!.request('l', 'k', '0'));
      b!.send('l\nk\n60\n');
      await eventually(() => server.blockedCount === 1, 'b to block', { timeoutMs: 2000, everyMs: 5 });
      const stopped = server.stop({ graceful: true });
      expect(await b!.line()).toBe('error');
      expect(server.stats().locks.find((l) => l.key === 'k')!.waiters).toBe(0);
      expect(await RawClient.connect(port).then(() => 'connected', (err: NodeJS.ErrnoException) => err.code)).toBe('ECONNREFUSED');
      const next = await b!.request('l', 'free', '0');
      const other = await idle!.request('stats', '_', '');
      if (mode === '2.1') {
        expect([next, other]).toEqual(['error_draining', 'error_draining']);
        await Promise.all([b!.eof(1000), idle!.eof(1000)]);
        expect(await a!.request('n', 'k', 'x')).toBe('error_draining');
        await a!.eof(1000);
        await stopped; // the last connection left: no need to wait for the shutdown timeout
      } else {
        expect(grant(next).status).toBe('ok');
        expect(other).toMatch(/^ok \{/);
        await server.stop();
      }
    } finally {
      await server.stop();
    }
  });
});

describe('compat 2.1: fencing tokens (v2.1.0)', () => {
  const server = new DflockdTestServer({ compat: '2.1', port: 0 });
  let port = 0;
  let before = 0n;
  let after = 0n;
  beforeAll(async () => {
    before = wallClockNanos();
    port = await server.start();
    after = wallClockNanos();
  });
  afterEach(() => RawClient.closeAll());
  afterAll(() => server.stop());

  test('one counter for all keys, +1 per grant (locks, semaphores, e, queued grants), seeded from the clock', async () => {
    const [h, c] = await Promise.all([RawClient.connect(port), RawClient.connect(port)]);
    const tokens: string[] = [];
    tokens.push(grant(await h.request('l', 'f1', '0')).token);
    tokens.push(grant(await h.request('sl', 'f2', '0 3')).token);
    tokens.push(grant(await c.request('sl', 'f2', '0 3')).token);
    tokens.push(grant(await h.request('e', 'f3', '')).token);
    expect(grant(await h.request('w', 'f3', '0')).token).toBe(tokens[3]); // w hands over, no new grant
    tokens.push(grant(await h.request('l', 'f4', '0')).token);
    expect(await c.request('e', 'f4', '')).toBe('queued');
    expect(await h.request('r', 'f4', tokens[4]!)).toBe('ok'); // granted to c's entry now
    tokens.push(grant(await c.request('w', 'f4', '0')).token);
    tokens.push(grant(await h.request('se', 'f5', '2')).token);
    const fences = tokens.map(fenceOf);
    for (let i = 1; i < fences.length; i++) expect(fences[i]! - fences[i - 1]!).toBe(1n);
    expect(fences[0]! - 1n).toBeGreaterThanOrEqual(before);
    expect(fences[0]! - 1n).toBeLessThanOrEqual(after);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(tokens.map((t) => t.slice(16))).size).toBe(tokens.length); // random salts
  });

  test('a restart seeds again from the clock: fences keep increasing', async () => {
    const c = await RawClient.connect(port);
    const first = fenceOf(grant(await c.request('l', 'restart', '0')).token);
    await server.stop();
    port = await server.start();
    const d = await RawClient.connect(port);
    expect(fenceOf(grant(await d.request('l', 'restart', '0')).token)).toBeGreaterThan(first);
  });
});

describe('compat 1.10: tokens are 16 random bytes', () => {
  const fx = useServer({ compat: '1.10' });

  test('no fence: consecutive grants do not count up', async () => {
    const c = await fx.connect();
    const fences: bigint[] = [];
    for (let i = 0; i < 5; i++) fences.push(fenceOf(grant(await c.request('l', `r${i}`, '0')).token));
    expect(fences.slice(1).every((f, i) => f - fences[i]! === 1n)).toBe(false);
  });
});

const LONG_SECRET = 's'.repeat(1000);

describe.each(MODES)('compat %s: auth line lengths', (mode) => {
  const fx = useServer({ compat: mode, authToken: LONG_SECRET });

  test('a 1000-byte secret authenticates only where auth lines may reach 64 KiB', async () => {
    const c = await fx.connect();
    const reply = await c.request('auth', '_', LONG_SECRET);
    if (mode === '2.1') {
      expect(reply).toBe('ok');
      expect(await c.request('l', 'after-auth', '0')).toMatch(/^ok /);
      c.send(`r\nk\n${'t'.repeat(300)}\n`); // every other line keeps the 256-byte limit
      expect(await c.line()).toBe('error');
      await c.eof();
    } else {
      expect(reply).toBe('error_auth');
      await c.eof();
    }
  });

  test('beyond 64 KiB, or a long key line, auth fails and the connection closes', async () => {
    for (const request of [`auth\n_\n${'s'.repeat(64 * 1024 + 1)}\n`, `auth\n${'k'.repeat(300)}\n${LONG_SECRET}\n`]) {
      const c = await fx.connect();
      c.send(request);
      expect(await c.line()).toBe('error_auth');
      await c.eof();
    }
  });
});

describe('compat 2.1: --max-connections is exact under a burst', () => {
  const fx = useServer({ compat: '2.1', maxConnections: 3 });

  test('six simultaneous connects: three are served, three closed at once', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => fx.connect()));
    for (const c of clients) c.send('ping\n_\n\n');
    const outcomes = await Promise.all(clients.map((c) => c.next(2000).then((e) => (e === EOF ? 'closed' : e))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'closed')).toHaveLength(3);
  });
});
