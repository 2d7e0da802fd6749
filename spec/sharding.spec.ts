import * as zlib from 'node:zlib';
import { DflockdError } from '../lib/errors';
import { crc32, pickServer, stableHashShard } from '../lib/sharding';
// Deterministic, so failures reproduce.
import { mulberry32 } from '../tools/prng';
import { refusal } from './helpers/refusal';

const ALPHABET = [...'abcXYZ019:/-_.', 'é', 'ß', 'ж', '中', '锁', '🙂', '🔒', '\u0000', '\u00ff', '\u2028'];

function randomKey(rand: () => number): string {
  const len = Math.floor(rand() * 40);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

describe('stableHashShard', () => {
  it.each([
    ['my-resource', 0],
    ['user:42', 1],
    ['orders', 2],
  ])('%s → %i of 3 servers (agrees with the Python, Go and TS clients)', (key, index) => {
    expect(stableHashShard(key, 3)).toBe(index);
  });

  it('is CRC-32 of the UTF-8 bytes modulo the server count', () => {
    const rand = mulberry32(42);
    for (let i = 0; i < 500; i++) {
      const key = randomKey(rand);
      const n = 1 + Math.floor(rand() * 9);
      expect(stableHashShard(key, n)).toBe(zlib.crc32(Buffer.from(key, 'utf8')) % n);
    }
  });

  it('always returns 0 for one server', () => {
    for (const key of ['a', 'orders', 'ключ', '🙂']) expect(stableHashShard(key, 1)).toBe(0);
  });

  it('spreads keys over every server', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[stableHashShard(`key-${i}`, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('crc32', () => {
  it('matches the standard check value and the empty input', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('is unsigned', () => {
    // 'a' has its top bit set: 0xe8b7be43.
    expect(crc32(Buffer.from('a'))).toBe(0xe8b7be43);
    expect(crc32(Buffer.from('a'))).toBeGreaterThan(0);
  });

  it('agrees with zlib.crc32 for random strings, including non-ASCII', () => {
    const rand = mulberry32(7);
    for (let i = 0; i < 2000; i++) {
      const key = randomKey(rand);
      const bytes = Buffer.from(key, 'utf8');
      expect({ key, crc: crc32(bytes) }).toEqual({ key, crc: zlib.crc32(bytes) });
    }
  });

  it('agrees with zlib.crc32 for random bytes', () => {
    const rand = mulberry32(99);
    for (let i = 0; i < 500; i++) {
      const bytes = new Uint8Array(Math.floor(rand() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      expect(crc32(bytes)).toBe(zlib.crc32(bytes));
    }
  });
});

describe('pickServer', () => {
  it('uses the default strategy', () => {
    expect(pickServer(stableHashShard, 'orders', 3)).toBe(2);
    expect(pickServer(stableHashShard, 'user:42', 3)).toBe(1);
    expect(pickServer(stableHashShard, 'anything', 1)).toBe(0);
  });

  it('calls a custom strategy with (key, numServers) and returns its index', () => {
    const strategy = jest.fn((_key: string, n: number) => n - 1);
    expect(pickServer(strategy, 'orders', 5)).toBe(4);
    expect(strategy).toHaveBeenCalledWith('orders', 5);
    expect(pickServer(() => 0, 'k', 2)).toBe(0);
  });

  it.each<readonly [string, unknown, number]>([
    ['not an integer', 1.5, 3],
    ['negative', -1, 3],
    ['equal to numServers', 3, 3],
    ['beyond numServers', 7, 3],
    ['NaN', NaN, 3],
    ['Infinity', Infinity, 3],
    ['a numeric string', '1', 3],
    ['undefined', undefined, 3],
    ['1 with a single server', 1, 1],
  ])('refuses a result that is %s, with InvalidArgumentError naming shardingStrategy', (_label, result, n) => {
    const err = refusal(() => pickServer(() => result as number, 'orders', n));
    expect(err).toBeInstanceOf(DflockdError);
    expect(err.argument).toBe('shardingStrategy');
    expect(err.message).toContain('orders');
    expect(err.message).toContain(String(result));
  });
});
