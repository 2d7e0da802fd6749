/**
 * Lock tokens: 16 random bytes as 32 lowercase hex characters, like dflockd.
 *
 * @module
 */

import * as crypto from 'node:crypto';

const TOKEN_BYTES = 16;
// One getrandom call per 256 tokens, as dflockd does, keeps grants cheap under load.
const POOL_BYTES = 4096;

/** Hands out unguessable tokens from a refillable pool of random bytes. */
export class TokenSource {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private pos = POOL_BYTES;

  /** A fresh token: 32 lowercase hex characters. */
  next(): string {
    if (this.pos + TOKEN_BYTES > POOL_BYTES) {
      crypto.randomFillSync(this.pool);
      this.pos = 0;
    }
    const token = this.pool.toString('hex', this.pos, this.pos + TOKEN_BYTES);
    this.pos += TOKEN_BYTES;
    return token;
  }
}
