/**
 * Server-side line splitting with dflockd's rules: LF terminates, every
 * trailing CR is stripped, at most 256 bytes (trailing CR included) before
 * the LF, and no UTF-8 decoding (a line is a byte string, one char per byte).
 *
 * @module
 */

/** dflockd's `protocol.MaxLineBytes`. */
export const MAX_LINE_BYTES = 256;

/** Returned by {@link LineReader.next} when the current line exceeds {@link MAX_LINE_BYTES}. */
export const LINE_TOO_LONG: unique symbol = Symbol('line too long');

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/** Accumulates socket chunks and hands out complete lines. */
export class LineReader {
  private buf: Buffer = EMPTY;
  private pos = 0;

  /** Bytes received but not consumed yet. */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Adds a chunk from the socket. */
  push(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
    } else {
      // Only a partial line (or requests read while blocked) is ever carried over.
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  /**
   * The next line as a byte string, `null` if it is not complete yet, or
   * {@link LINE_TOO_LONG} (longer than `limit` bytes before its LF), after
   * which the caller must {@link drain} it.
   */
  next(limit = MAX_LINE_BYTES): string | null | typeof LINE_TOO_LONG {
    const start = this.pos;
    const end = this.buf.indexOf(LF, start);
    if (end === -1) return this.buf.length - start > limit ? LINE_TOO_LONG : null;
    if (end - start > limit) return LINE_TOO_LONG;
    this.pos = end + 1;
    let stop = end;
    while (stop > start && this.buf[stop - 1] === CR) stop--;
    const line = this.buf.toString('latin1', start, stop);
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    return line;
  }

  /**
   * Discards the rest of an over-long line up to and including its LF.
   * Returns true once the LF was consumed, false if more data is needed.
   */
  drain(): boolean {
    const end = this.buf.indexOf(LF, this.pos);
    if (end === -1) {
      this.buf = EMPTY;
      this.pos = 0;
      return false;
    }
    this.pos = end + 1;
    return true;
  }
}
