import { InvalidArgumentError } from './errors.js';
import { utf8Bytes } from './protocol/utf8.js';

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib.crc32) of the bytes, unsigned. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
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
  return crc32(utf8Bytes(key)) % numServers;
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
