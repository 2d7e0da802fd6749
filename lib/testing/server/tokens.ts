/**
 * Lock tokens: 32 lowercase hex characters, like dflockd. Without fencing all
 * 16 bytes are random (v1.10); with fencing (v2.1) the first 8 bytes are a
 * big-endian uint64 from one server-wide counter, +1 per grant and seeded from
 * the wall clock in nanoseconds, and the last 8 are random.
 *
 * One source serves every front-end of a server (TCP, HTTP), so fences stay
 * strictly increasing across them.
 *
 * @module
 */

import * as crypto from 'node:crypto';

const TOKEN_BYTES = 16;
const SALT_BYTES = 8;
// One getrandom call per 256 tokens, as dflockd does, keeps grants cheap under load.
const POOL_BYTES = 4096;
const UINT64_MASK = (1n << 64n) - 1n;

/** Options of a {@link TokenSource}. */
export interface TokenSourceOptions {
  /** Prefix every token with a fence. @default false */
  readonly fenced?: boolean;
  /** The fence before the first grant (the first token carries `seed + 1`). @default the wall clock in ns */
  readonly seed?: bigint;
}

// The wall clock read once, then advanced by the monotonic clock: nanosecond
// resolution that never goes backwards (adding the monotonic clock's sub-ms part
// to Date.now() could, when that part wraps inside one millisecond).
const WALL_ORIGIN_NS = BigInt(Date.now()) * 1_000_000n;
const MONO_ORIGIN_NS = process.hrtime.bigint();

/** The wall clock in nanoseconds (as at load time, advanced monotonically since): never decreases. */
export function wallClockNanos(): bigint {
  return WALL_ORIGIN_NS + (process.hrtime.bigint() - MONO_ORIGIN_NS);
}

/** Hands out unguessable tokens from a refillable pool of random bytes. */
export class TokenSource {
  /** Whether tokens carry a fence. */
  readonly fenced: boolean;
  private fence: bigint;
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private pos = POOL_BYTES;

  constructor(options: TokenSourceOptions = {}) {
    this.fenced = options.fenced ?? false;
    this.fence = this.fenced ? (options.seed ?? wallClockNanos()) & UINT64_MASK : 0n;
  }

  /** The fence of the most recent token (the seed before the first); 0 when unfenced. */
  get lastFence(): bigint {
    return this.fence;
  }

  /** A fresh token: 32 lowercase hex characters, the next fence first when fenced. */
  next(): string {
    if (!this.fenced) return this.random(TOKEN_BYTES);
    this.fence = (this.fence + 1n) & UINT64_MASK;
    return this.fence.toString(16).padStart(16, '0') + this.random(SALT_BYTES);
  }

  private random(bytes: number): string {
    if (this.pos + bytes > POOL_BYTES) {
      crypto.randomFillSync(this.pool);
      this.pos = 0;
    }
    const hex = this.pool.toString('hex', this.pos, this.pos + bytes);
    this.pos += bytes;
    return hex;
  }
}
