import { InvalidArgumentError } from './errors.js';

// A hand-written CRC-32 rather than `zlib.crc32`: this module must also run in browsers, Deno and
// edge runtimes (`import { stableHashShard } from 'dflockd-rx'` bundles for the browser, and
// `node:zlib` cannot), and it hashes the key's UTF-8 bytes as it encodes them, without a Buffer or
// TextEncoder copy per key. spec/sharding-platform.spec.ts checks it against zlib.crc32 on many
// random inputs, and that it runs where no Node built-in exists.
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const step = (crc: number, byte: number): number => TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);

/** CRC-32 (IEEE 802.3, as zlib.crc32) of the bytes, unsigned. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = step(crc, bytes[i]!);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32 of the string's UTF-8 encoding, encoded on the fly as `TextEncoder` (and Node's
 * `Buffer.from(s, 'utf8')`) encodes it: a lone surrogate becomes U+FFFD.
 */
export function crc32Utf8(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      crc = step(crc, c);
      continue;
    }
    if (c < 0x800) {
      crc = step(step(crc, 0xc0 | (c >> 6)), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        crc = step(step(step(step(crc, 0xf0 | (cp >> 18)), 0x80 | ((cp >> 12) & 0x3f)), 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    crc = step(step(step(crc, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The default sharding strategy: CRC-32 of the key's UTF-8 bytes modulo the number of servers.
 * Agrees with the Python, Go and TypeScript dflockd clients, so mixed fleets agree on key placement.
 *
 * @example
 * ```ts
 * stableHashShard('orders', 3); // 2
 * ```
 */
export function stableHashShard(key: string, numServers: number): number {
  return crc32Utf8(key) % numServers;
}

/** Runs a strategy and refuses a result that is not an integer index of a server. */
export function pickServer(strategy: (key: string, n: number) => number, key: string, numServers: number): number {
  if (numServers === 1 && strategy === stableHashShard) return 0;
  const index = strategy(key, numServers);
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= numServers) {
    throw new InvalidArgumentError('shardingStrategy', `returned ${String(index)} for key ${JSON.stringify(key)}; it must return an integer in [0, ${numServers})`);
  }
  return index;
}
