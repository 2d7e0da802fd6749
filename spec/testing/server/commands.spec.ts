// PROTOCOL.md §1.4: command matching, key validation, argument parsing (Go
// integer semantics and duration wrap-around), release/renew, §1.14 "Basic".
import { grant, statsOf } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

const GRANT = /^ok [0-9a-f]{32} 33$/;
const grantOf = (lease: number): RegExp => new RegExp(`^ok [0-9a-f]{32} ${lease}$`);

describe('commands (§1.4)', () => {
  const fx = useServer();

  test('transcript "Basic" (§1.14)', async () => {
    const c = await fx.connect();
    const { token } = grant(await c.request('l', 'k1', '10'));
    expect(await c.request('n', 'k1', token)).toBe('ok 33');
    expect(await c.request('n', 'k1', `${token} 60`)).toBe('ok 60');
    expect(await c.request('r', 'k1', token)).toBe('ok');
    expect(await c.request('r', 'k1', token)).toBe('error');
    c.send('l\r\nk2\r\n0\r\n');
    const k2 = grant(await c.line());
    expect(await c.request('l', 'k3', '+0 +7')).toMatch(grantOf(7));
    expect(await c.request('l', 'k', '0 0')).toBe('error');
    expect(await c.request('w', 'nokey2', '0')).toBe('error_not_enqueued');
    expect(await c.request('auth', '_', 'whatever')).toBe('error');
    await c.request('r', 'k2', k2.token);
    const stats = statsOf(await c.request('stats', '', ''));
    expect(stats.connections).toBe(1);
    expect(stats.locks).toEqual([expect.objectContaining({ key: 'k3', waiters: 0 })]);
    expect(stats.idle_locks.map((i) => i.key).sort()).toEqual(['k1', 'k2']);
    expect(stats.semaphores).toEqual([]);
    expect(stats.idle_semaphores).toEqual([]);
  });

  test.each([
    ['L', 'upper-case command'],
    ['l ', 'trailing space'],
    ['', 'empty command'],
    ['bogus', 'unknown command'],
    ['lock', 'long name'],
  ])('command %j (%s) gives error and the connection stays open', async (cmd) => {
    const c = await fx.connect();
    expect(await c.request(cmd, 'cmdkey', '0')).toBe('error');
    expect(await c.request('stats', '_', '')).toMatch(/^ok \{/);
  });

  test.each([
    ['', 'empty'],
    [' k', 'leading space'],
    ['k ', 'trailing space'],
    ['a\tb', 'TAB'],
  ])('key %j (%s) is refused', async (key) => {
    const c = await fx.connect();
    expect(await c.request('l', key, '0')).toBe('error');
    expect(await c.request('e', key, '')).toBe('error');
    expect(await c.request('r', key, 'tok')).toBe('error');
  });

  test.each([
    ['k\u0000nul'],
    ['k\u000bvt'],
    ['k\u000cff'],
    ['k\u00a0nbsp'],
  ])('key %j is allowed (only space, TAB, CR, LF are refused)', async (key) => {
    const c = await fx.connect();
    expect(await c.request('l', key, '0')).toMatch(GRANT);
  });

  // [cmd, arg, expected reply]; each row gets its own fresh key.
  const argRows: Array<[string, string, string | RegExp]> = [
    ['l', '+7', GRANT],
    ['l', '007', GRANT],
    ['l', '-0', GRANT],
    ['l', '  0 \t 5 ', grantOf(5)],
    ['l', '0 +60', grantOf(60)],
    ['l', '1.5', 'error'],
    ['l', 'abc', 'error'],
    ['l', '0x10', 'error'],
    ['l', '1_0', 'error'],
    ['l', '9223372036854775808', 'error'],
    ['l', '-1', 'error'],
    ['l', '', 'error'],
    ['l', '0 5 6', 'error'],
    ['l', '0 0', 'error'],
    ['l', '0 -1', 'error'],
    ['l', '0 9999999999', 'error'],
    ['sl', '0', 'error'],
    ['sl', '0 2', GRANT],
    ['sl', '0 2 7', grantOf(7)],
    ['sl', '0 2 7 8', 'error'],
    ['sl', '0 0', 'error'],
    ['sl', '0 -2', 'error'],
    ['sl', '0 x', 'error'],
    ['sl', '-1 2', 'error'],
    ['sl', '0 2 9999999999', 'error'],
    ['r', '', 'error'],
    ['r', '  \t ', 'error'],
    ['r', 'deadbeef', 'error'],
    ['sr', '', 'error'],
    ['n', '', 'error'],
    ['n', 'tok 5 6', 'error'],
    ['n', 'tok 0', 'error'],
    ['n', 'tok x', 'error'],
    ['n', 'tok', 'error'],
    ['sn', '', 'error'],
    ['e', '', /^acquired [0-9a-f]{32} 33$/],
    ['e', ' 7 ', /^acquired [0-9a-f]{32} 7$/],
    ['e', '3 4', 'error'],
    ['e', 'x', 'error'],
    ['e', '0', 'error'],
    ['e', '-1', 'error'],
    ['se', '', 'error'],
    ['se', '0', 'error'],
    ['se', '2', /^acquired [0-9a-f]{32} 33$/],
    ['se', '2 5', /^acquired [0-9a-f]{32} 5$/],
    ['se', '2 5 6', 'error'],
    ['se', '2 0', 'error'],
    ['w', '', 'error'],
    ['w', '1 2', 'error'],
    ['w', '-1', 'error'],
    ['w', 'x', 'error'],
    ['w', '0', 'error_not_enqueued'],
    ['sw', '', 'error'],
    ['sw', '+0', 'error_not_enqueued'],
  ];
  test.each(argRows)('%s with argument %j → %s', async (cmd, arg, expected) => {
    const c = await fx.connect();
    const reply = await c.request(cmd, `arg-${cmd}-${argRows.findIndex((r) => r[0] === cmd && r[1] === arg)}`, arg);
    if (typeof expected === 'string') expect(reply).toBe(expected);
    else expect(reply).toMatch(expected);
    expect(await c.request('stats', '_', '')).toMatch(/^ok \{/); // still open
  });

  test('stats reads and ignores key and argument', async () => {
    const c = await fx.connect();
    expect(await c.request('stats', '', '')).toMatch(/^ok \{/);
    expect(await c.request('stats', ' bad key ', 'junk junk')).toMatch(/^ok \{/);
  });

  // v1.10.0 only: 2.1 refuses such values and separates the key spaces (compat.spec.ts).
  describe('v1.10.0: duration wrap-around (int64 nanoseconds, no overflow check), one key space', () => {
    const fx = useServer({ compat: '1.10' });

    test('r/sr and n/sn are the same code path', async () => {
      const c = await fx.connect();
      const lock = grant(await c.request('l', 'same-l', '0'));
      const sem = grant(await c.request('sl', 'same-s', '0 3'));
      expect(await c.request('sn', 'same-l', `${lock.token} 9`)).toBe('ok 9');
      expect(await c.request('n', 'same-s', `${sem.token} 8`)).toBe('ok 8');
      expect(await c.request('sr', 'same-l', lock.token)).toBe('ok');
      expect(await c.request('r', 'same-s', sem.token)).toBe('ok');
    });

    test('timeout 9999999999 wraps negative: an immediate timeout', async () => {
      const a = await fx.connect();
      const b = await fx.connect();
      grant(await a.request('l', 'wrap-t', '0'));
      const started = Date.now();
      expect(await b.request('l', 'wrap-t', '9999999999')).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(500);
    });

    test('lease 18446744074 wraps to ~0.29 s and the reply claims the default 33', async () => {
      const c = await fx.connect();
      expect(await c.request('l', 'wrap-l', '0 18446744074')).toMatch(GRANT);
      const lock = fx.server.stats().locks.find((l) => l.key === 'wrap-l')!;
      expect(lock.lease_expires_in_s).toBeLessThan(0.3);
    });

    test('renew with lease 18446744074 replies ok 0 (no default substitution for renew)', async () => {
      const c = await fx.connect();
      const { token } = grant(await c.request('l', 'wrap-n', '0'));
      expect(await c.request('n', 'wrap-n', `${token} 18446744074`)).toBe('ok 0');
    });

    test('e checks the lease before multiplying: 9999999999 is "acquired" with a negative lease', async () => {
      const c = await fx.connect();
      expect(await c.request('e', 'wrap-e', '9999999999')).toMatch(/^acquired [0-9a-f]{32} -8446744074$/);
    });
  });

  describe('release and renew (§1.4.2, §1.4.3, §1.6)', () => {
    test('any connection with key and token can release or renew; double release fails', async () => {
      const b = await fx.connect();
      const c = await fx.connect();
      const { token } = grant(await b.request('l', 'rel-any', '0'));
      expect(await c.request('n', 'rel-any', `${token} 5`)).toBe('ok 5');
      expect(await c.request('r', 'rel-any', token)).toBe('ok');
      expect(await b.request('r', 'rel-any', token)).toBe('error');
      expect(await b.request('n', 'rel-any', token)).toBe('error');
    });

    test('the token must belong to that key; unknown keys fail', async () => {
      const c = await fx.connect();
      const { token } = grant(await c.request('l', 'rel-key', '0'));
      expect(await c.request('r', 'rel-other', token)).toBe('error');
      expect(await c.request('r', 'never-seen', token)).toBe('error');
      expect(await c.request('r', 'rel-key', 'f'.repeat(32))).toBe('error');
    });

    test('the whole trimmed line is the token: "tok extra" does not match', async () => {
      const c = await fx.connect();
      const { token } = grant(await c.request('l', 'rel-extra', '0'));
      expect(await c.request('r', 'rel-extra', `${token} extra`)).toBe('error');
      expect(await c.request('r', 'rel-extra', `  ${token}\t`)).toBe('ok');
    });

    test('renew replies the new TTL; without one it resets to the server default, not the acquire lease', async () => {
      const c = await fx.connect();
      const { token } = grant(await c.request('l', 'renew-def', '0 60'));
      expect(await c.request('n', 'renew-def', token)).toBe('ok 33');
      const lock = fx.server.stats().locks.find((l) => l.key === 'renew-def')!;
      expect(lock.lease_expires_in_s).toBeGreaterThan(32);
      expect(lock.lease_expires_in_s).toBeLessThanOrEqual(33);
    });
  });
});
