import { ProtocolError } from '../errors.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Default bound on one reply line. Replies are short except `stats`, whose JSON grows with
 * the number of keys (about 100 bytes a key), so the bound is generous.
 */
export const DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024;

/**
 * Turns a stream of chunks into lines: splits on LF only, strips every trailing CR
 * (as the server does), decodes UTF-8 per complete line so a character split across
 * chunks is never mangled, and refuses a line longer than `maxLineBytes`.
 *
 * @example
 * ```ts
 * const d = new LineDecoder();
 * d.push(Buffer.from('ok 1')); // []
 * d.push(Buffer.from('\n'));   // ['ok 1']
 * ```
 */
export class LineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number = DEFAULT_MAX_REPLY_BYTES) {}

  /** Bytes held for an unterminated line. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Feeds one chunk; returns the lines it completed (possibly none). Throws {@link ProtocolError} on an oversized line. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    this.feed(chunk, (line) => lines.push(line));
    return lines;
  }

  /**
   * {@link push} without the array: calls `onLine` for each line the chunk completes, in order.
   * Throws {@link ProtocolError} on an oversized line (after the lines before it).
   */
  feed(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    let nl = chunk.indexOf(LF, start);
    while (nl !== -1) {
      if (this.pendingBytes === 0) {
        // The common case: the whole line is in this chunk; decode it in place, no copy.
        if (nl - start > this.maxLineBytes) this.tooLong(nl - start);
        onLine(decodeLine(chunk, start, nl));
      } else {
        this.pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.pending, this.pendingBytes + nl - start);
        this.pending = [];
        this.pendingBytes = 0;
        if (line.length > this.maxLineBytes) this.tooLong(line.length);
        onLine(decodeLine(line, 0, line.length));
      }
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) this.tooLong(this.pendingBytes);
      // Copy: the caller may reuse its buffer, and a view would pin the whole chunk.
      this.pending.push(Buffer.from(rest));
    }
  }

  private tooLong(bytes: number): never {
    this.pending = [];
    this.pendingBytes = 0;
    throw new ProtocolError(`reply line exceeds ${this.maxLineBytes} bytes (${bytes} bytes without a newline)`);
  }
}

/** The line in `bytes[start, end)`, without its trailing CRs, decoded as UTF-8. */
function decodeLine(bytes: Buffer, start: number, end: number): string {
  while (end > start && bytes[end - 1] === CR) end--;
  return bytes.toString('utf8', start, end);
}

/** Encodes one request: exactly three LF-terminated lines, as the server frames them. */
export function encodeRequest(cmd: string, key: string, arg: string): string {
  return `${cmd}\n${key}\n${arg}\n`;
}
