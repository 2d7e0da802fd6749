import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import * as zlib from 'node:zlib';
import { crc32, crc32Utf8, stableHashShard } from '../lib/sharding.js';
import { mulberry32 } from '../tools/prng.js';

// lib/sharding.ts keeps its own CRC-32 so that it runs where node:zlib does not (browsers, Deno,
// edge runtimes). These checks hold it to zlib.crc32, the built-in it stands in for.

// Every kind of UTF-16 unit: ASCII, 2- and 3-byte UTF-8, the surrogate range edges, paired
// surrogates (4 bytes) and lone ones (encoded as U+FFFD, as Buffer and TextEncoder do).
function randomString(rand: () => number): string {
  const len = Math.floor(rand() * 64);
  const units: number[] = [];
  for (let i = 0; i < len; i++) {
    const kind = Math.floor(rand() * 8);
    if (kind <= 2) units.push(Math.floor(rand() * 0x80));
    else if (kind === 3) units.push(0x80 + Math.floor(rand() * 0x780));
    else if (kind === 4) units.push(0x800 + Math.floor(rand() * (0xd800 - 0x800)));
    else if (kind === 5) units.push(0xe000 + Math.floor(rand() * 0x2000));
    else if (kind === 6) units.push(0xd800 + Math.floor(rand() * 0x400), 0xdc00 + Math.floor(rand() * 0x400));
    else units.push(0xd800 + Math.floor(rand() * 0x800)); // a lone high or low surrogate
  }
  return String.fromCharCode(...units);
}

test('crc32Utf8 equals zlib.crc32 of the UTF-8 bytes for 20,000 random strings', () => {
  const rand = mulberry32(2024);
  const mismatches: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const s = randomString(rand);
    if (crc32Utf8(s) !== zlib.crc32(Buffer.from(s, 'utf8'))) mismatches.push(JSON.stringify(s));
  }
  expect(mismatches).toEqual([]);
});

test('crc32 equals zlib.crc32 for 5,000 random byte arrays up to 1 KiB', () => {
  const rand = mulberry32(17);
  for (let i = 0; i < 5_000; i++) {
    const bytes = new Uint8Array(Math.floor(rand() * 1024));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
    if (crc32(bytes) !== zlib.crc32(bytes)) throw new Error(`mismatch for ${Buffer.from(bytes).toString('hex')}`);
  }
});

test.each([
  ['', 0],
  ['\ud800', zlib.crc32(Buffer.from('\ufffd'))],
  ['a\udc00b', zlib.crc32(Buffer.from('a\ufffdb'))],
  ['\ud83d\udd12', zlib.crc32(Buffer.from('🔒'))],
  ['\udbff\udfff', zlib.crc32(Buffer.from([0xf4, 0x8f, 0xbf, 0xbf]))],
])('edge case %j', (s, expected) => {
  expect(crc32Utf8(s)).toBe(expected);
});

test('stableHashShard agrees with zlib.crc32 modulo n', () => {
  const rand = mulberry32(5);
  for (let i = 0; i < 2_000; i++) {
    const s = randomString(rand);
    const n = 1 + Math.floor(rand() * 16);
    expect(stableHashShard(s, n)).toBe(zlib.crc32(Buffer.from(s, 'utf8')) % n);
  }
});

test('the built module runs with no Node built-in at all (no Buffer, no require of node:*)', () => {
  const built = path.join(__dirname, '..', 'dist', 'cjs', 'sharding.js');
  const source = fs.readFileSync(built, 'utf8');
  const module = { exports: {} as { stableHashShard?: (k: string, n: number) => number } };
  const requested: string[] = [];
  // Only the package's own errors module may be required; a browser bundle has nothing else.
  const fakeRequire = (id: string): unknown => {
    requested.push(id);
    if (id === './errors.js') return { InvalidArgumentError: class extends Error {} };
    throw new Error(`sharding.js requires ${id}`);
  };
  vm.runInNewContext(source, { module, exports: module.exports, require: fakeRequire });
  expect(requested).toEqual(['./errors.js']);
  expect(module.exports.stableHashShard!('orders', 3)).toBe(2);
  expect(module.exports.stableHashShard!('user:42', 3)).toBe(1);
});
