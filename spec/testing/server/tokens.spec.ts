// Token sources (fenced in 2.1, random in 1.10) and the compat rule table.
import { fenceOf } from '../../../lib/protocol/fence';
import { COMPAT_MODES, compatRules, resourceId } from '../../../lib/testing/server/compat';
import { TokenSource, wallClockNanos } from '../../../lib/testing/server/tokens';

describe('TokenSource', () => {
  test('unfenced: 32 lowercase hex digits, all different', () => {
    const source = new TokenSource();
    const tokens = Array.from({ length: 600 }, () => source.next()); // crosses a pool refill
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(source.fenced).toBe(false);
  });

  test('fenced: seed + 1, + 1 per token, zero-padded big-endian, random salt', () => {
    const source = new TokenSource({ fenced: true, seed: 41n });
    const [a, b] = [source.next(), source.next()];
    expect(a.slice(0, 16)).toBe('000000000000002a');
    expect(fenceOf(b)).toBe(43n);
    expect(source.lastFence).toBe(43n);
    expect(a.slice(16)).not.toBe(b.slice(16));
  });

  test('fenced: the counter wraps at 2^64 like a uint64', () => {
    const source = new TokenSource({ fenced: true, seed: (1n << 64n) - 2n });
    expect(source.next().slice(0, 16)).toBe('ffffffffffffffff');
    expect(source.next().slice(0, 16)).toBe('0000000000000000');
  });

  test('fenced by default from the wall clock in nanoseconds', () => {
    const before = wallClockNanos();
    const source = new TokenSource({ fenced: true });
    const after = wallClockNanos();
    const first = fenceOf(source.next()) - 1n;
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(after);
    expect(Number(first / 1_000_000n)).toBeLessThanOrEqual(Date.now());
  });

  test('the wall clock in nanoseconds never goes backwards, not even inside one millisecond', () => {
    let last = wallClockNanos();
    // Enough calls to cross many millisecond boundaries (where a sub-ms part can wrap).
    for (let i = 0; i < 200_000; i++) {
      const now = wallClockNanos();
      expect(now >= last).toBe(true);
      last = now;
    }
    expect(Math.abs(Number(last / 1_000_000n) - Date.now())).toBeLessThan(1000);
  });
});

describe('compat rules', () => {
  test('two modes, 2.1 first; each a frozen table', () => {
    expect(COMPAT_MODES).toEqual(['2.1', '1.10']);
    for (const mode of COMPAT_MODES) expect(Object.isFrozen(compatRules(mode))).toBe(true);
  });

  test('staleTokenOnWait follows the mode unless set', () => {
    expect(compatRules('1.10').staleTokenOnWait).toBe(true);
    expect(compatRules('2.1').staleTokenOnWait).toBe(false);
    expect(compatRules('2.1', { staleTokenOnWait: true })).toMatchObject({ mode: '2.1', staleTokenOnWait: true, fencedTokens: true });
    expect(compatRules('1.10', { staleTokenOnWait: false })).toMatchObject({ mode: '1.10', staleTokenOnWait: false, fencedTokens: false });
    expect(compatRules('1.10', { staleTokenOnWait: true })).toBe(compatRules('1.10'));
  });

  test('resource ids: one space in 1.10, prefixed by kind in 2.1', () => {
    expect(resourceId(compatRules('1.10'), 'lock', 'k')).toBe(resourceId(compatRules('1.10'), 'semaphore', 'k'));
    expect(resourceId(compatRules('2.1'), 'lock', 'k')).not.toBe(resourceId(compatRules('2.1'), 'semaphore', 'k'));
  });
});
