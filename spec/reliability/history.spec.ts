import { type HistoryEvent, check, claimsOf, lossLateness } from '../../tools/history.js';
import { formatSummary, mulberry32, parseArgs, runSoak } from '../../tools/soak.js';

const ev = (client: string, kind: HistoryEvent['kind'], token: string, t: number, expiresAt?: number, key = 'k'): HistoryEvent => ({
  client,
  key,
  kind,
  token,
  t,
  ...(expiresAt === undefined ? {} : { expiresAt }),
});

describe('check(): locks', () => {
  test('a clean hand-over passes: A releases at 100, B acquires at 100', () => {
    const history = [ev('A', 'acquired', 'a', 0, 1_000), ev('A', 'released', 'a', 100), ev('B', 'acquired', 'b', 100, 1_100), ev('B', 'released', 'b', 150)];
    expect(check(history)).toEqual([]);
  });

  test('an overlap is detected: B acquires while A still holds', () => {
    const history = [ev('A', 'acquired', 'a', 0, 1_000), ev('B', 'acquired', 'b', 50, 1_050), ev('A', 'released', 'a', 100), ev('B', 'released', 'b', 200)];
    const violations = check(history);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: 'overlap', key: 'k', t: 50 });
    expect(violations[0]!.message).toContain('B');
    expect(violations[0]!.message).toContain('A');
  });

  test('a holder whose lost comes late is cut at its local deadline: no overlap with the next holder', () => {
    // A's deadline is 500; it only reported lost at 900. B got the lock at 600.
    const history = [ev('A', 'acquired', 'a', 0, 500), ev('B', 'acquired', 'b', 600, 1_600), ev('A', 'lost', 'a', 900), ev('B', 'released', 'b', 1_000)];
    expect(check(history)).toEqual([]);
    expect(lossLateness(history)).toEqual([400]);
  });

  test('renewals move the deadline: acquiring inside the renewed lease is an overlap', () => {
    const history = [ev('A', 'acquired', 'a', 0, 500), ev('A', 'renewed', 'a', 250, 750), ev('B', 'acquired', 'b', 600, 1_600)];
    expect(check(history)).toMatchObject([{ kind: 'overlap', t: 600 }]);
  });

  test('a lost holder stops claiming at lost: the next holder after that is fine', () => {
    const history = [ev('A', 'acquired', 'a', 0, 5_000), ev('A', 'lost', 'a', 200), ev('B', 'acquired', 'b', 201, 5_201)];
    expect(check(history)).toEqual([]);
  });

  test('a grant whose deadline passed before it was reported holds nothing', () => {
    const history = [ev('A', 'acquired', 'a', 100, 90), ev('A', 'lost', 'a', 100), ev('B', 'acquired', 'b', 50, 2_000)];
    expect(check(history)).toEqual([]);
  });

  test('keys are independent; recording order does not matter', () => {
    const history = [ev('B', 'acquired', 'b', 50, 1_000, 'y'), ev('A', 'acquired', 'a', 0, 1_000, 'x'), ev('A', 'released', 'a', 100, undefined, 'x')];
    expect(check(history)).toEqual([]);
  });

  test('malformed histories are reported: events before acquired, a token granted twice', () => {
    const history = [ev('A', 'renewed', 'a', 0, 500), ev('B', 'acquired', 'b', 10, 500), ev('B', 'released', 'b', 20), ev('B', 'acquired', 'b', 30, 600)];
    expect(check(history).map((v) => v.kind)).toEqual(['malformed', 'malformed']);
  });

  test('claims end at the earliest of release, loss and deadline', () => {
    const { claims } = claimsOf([ev('A', 'acquired', 'a', 0, 500), ev('A', 'released', 'a', 300), ev('B', 'acquired', 'b', 400, 700), ev('C', 'acquired', 'c', 800)]);
    expect(claims.map((c) => [c.client, c.end, c.endedBy])).toEqual([
      ['A', 300, 'released'],
      ['B', 700, 'deadline'],
      ['C', Infinity, 'open'],
    ]);
  });
});

describe('check(): semaphores', () => {
  const limits = { pool: 2 };
  const sem = (client: string, kind: HistoryEvent['kind'], token: string, t: number, expiresAt?: number): HistoryEvent => ev(client, kind, token, t, expiresAt, 'pool');

  test('up to the limit is fine', () => {
    const history = [sem('A', 'acquired', 'a', 0, 1_000), sem('B', 'acquired', 'b', 10, 1_000), sem('A', 'released', 'a', 20), sem('C', 'acquired', 'c', 20, 1_000)];
    expect(check(history, { limits })).toEqual([]);
  });

  test('one over the limit is detected', () => {
    const history = [sem('A', 'acquired', 'a', 0, 1_000), sem('B', 'acquired', 'b', 10, 1_000), sem('C', 'acquired', 'c', 20, 1_000)];
    const violations = check(history, { limits });
    expect(violations).toMatchObject([{ kind: 'over-limit', key: 'pool', limit: 2, t: 20 }]);
    expect((violations[0] as Extract<(typeof violations)[number], { kind: 'over-limit' }>).claims).toHaveLength(3);
  });

  test('the same history on a key without a limit is a lock: every extra holder overlaps', () => {
    const history = [sem('A', 'acquired', 'a', 0, 1_000), sem('B', 'acquired', 'b', 10, 1_000)];
    expect(check(history).map((v) => v.kind)).toEqual(['overlap']);
  });
});

describe('the soak tool', () => {
  test('mulberry32 is deterministic per seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  test('parseArgs reads --seconds --seed --clients --keys and refuses anything else', () => {
    expect(parseArgs(['--seconds', '300', '--seed=1', '--clients', '4', '--keys', '2'])).toEqual({ seconds: 300, seed: 1, clients: 4, keys: 2 });
    expect(() => parseArgs(['--seconds', 'x'])).toThrow(/--seconds/);
    expect(() => parseArgs(['--bogus', '1'])).toThrow(/unknown argument/);
  });

  test('a short seeded run under faults: operations and faults happen, no violation, nothing left on the server, no leak', async () => {
    const summary = await runSoak({ seconds: 6, seed: 1, clients: 4, keys: 2 });
    const text = formatSummary(summary);
    expect(summary.violations.map((v) => v.message)).toEqual([]);
    expect(summary.neighbourLosses).toEqual([]);
    expect(summary.leases.long).toBeGreaterThan(0);
    expect(summary.leases.short).toBeGreaterThan(0);
    expect(summary.leftovers).toEqual([]);
    expect(summary.leaks).toEqual([]);
    expect(summary.acquisitions).toBeGreaterThan(5);
    expect(Object.values(summary.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    expect(text).toContain('violations:   0');
  }, 30_000);
});
