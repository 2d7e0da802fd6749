import { DflockdError, ProtocolError } from '../../lib/errors';
import { DEFAULT_MAX_REPLY_BYTES, LineDecoder, encodeRequest } from '../../lib/protocol/codec';

/**
 * Habit 1 of STYLE.md: every decode case runs as one chunk, byte by byte, and split at every
 * index into two chunks. The decoder must give the same lines (and hold the same bytes) every time.
 */

interface LineCase {
  readonly name: string;
  readonly input: Buffer;
  /** Lines the whole input completes, in order. */
  readonly lines: readonly string[];
  /** Bytes held for a trailing unterminated line (raw, CRs included). */
  readonly buffered: number;
  /** What that held line decodes to once a LF arrives. */
  readonly held: string;
  readonly maxLineBytes?: number;
}

interface ErrorCase {
  readonly name: string;
  readonly input: Buffer;
  readonly maxLineBytes: number;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

const CASES: readonly LineCase[] = [
  { name: 'single line', input: b('ok\n'), lines: ['ok'], buffered: 0, held: '' },
  { name: 'grant line', input: b('ok 0123456789abcdef0123456789abcdef 33\n'), lines: ['ok 0123456789abcdef0123456789abcdef 33'], buffered: 0, held: '' },
  { name: 'several lines in one chunk', input: b('ok\nqueued\ntimeout\nerror_max_locks\n'), lines: ['ok', 'queued', 'timeout', 'error_max_locks'], buffered: 0, held: '' },
  { name: 'CRLF', input: b('ok 5\r\n'), lines: ['ok 5'], buffered: 0, held: '' },
  { name: 'CRLF on several lines', input: b('a\r\nb\r\n'), lines: ['a', 'b'], buffered: 0, held: '' },
  { name: 'several trailing CRs are all stripped', input: b('ok\r\r\r\n'), lines: ['ok'], buffered: 0, held: '' },
  { name: 'CR in the middle is kept', input: b('a\rb\n'), lines: ['a\rb'], buffered: 0, held: '' },
  { name: 'CRs in the middle kept, trailing stripped', input: b('\ra\r\rb\r\r\n'), lines: ['\ra\r\rb'], buffered: 0, held: '' },
  { name: 'a line of only CRs is empty', input: b('\r\r\n'), lines: [''], buffered: 0, held: '' },
  { name: 'empty lines', input: b('\n\n'), lines: ['', ''], buffered: 0, held: '' },
  { name: 'empty line between lines', input: b('a\n\nb\n'), lines: ['a', '', 'b'], buffered: 0, held: '' },
  { name: 'é (2 bytes)', input: b('clé é\n'), lines: ['clé é'], buffered: 0, held: '' },
  { name: '🙂 (4 bytes)', input: b('🙂 ok 🙂\n'), lines: ['🙂 ok 🙂'], buffered: 0, held: '' },
  { name: 'CJK (3 bytes)', input: b('锁定钥匙\n'), lines: ['锁定钥匙'], buffered: 0, held: '' },
  { name: 'mixed multi-byte with CRLF on several lines', input: b('aé🙂中\r\n€\n'), lines: ['aé🙂中', '€'], buffered: 0, held: '' },
  { name: 'stats-like JSON line', input: b('ok {"locks":[{"key":"ключ"}],"connections":2}\n'), lines: ['ok {"locks":[{"key":"ключ"}],"connections":2}'], buffered: 0, held: '' },
  { name: 'trailing unterminated line is held', input: b('ok\nqueu'), lines: ['ok'], buffered: 4, held: 'queu' },
  { name: 'only an unterminated line', input: b('timeout'), lines: [], buffered: 7, held: 'timeout' },
  { name: 'held line ending in CR counts the CR', input: b('ok\r'), lines: [], buffered: 3, held: 'ok' },
  { name: 'held multi-byte line', input: b('x\n🙂é'), lines: ['x'], buffered: 6, held: '🙂é' },
  { name: 'empty input', input: b(''), lines: [], buffered: 0, held: '' },
  // Byte limits (maxLineBytes 8): the bound is in bytes, counted before the LF, CRs included.
  { name: 'line of exactly maxLineBytes', input: b('abcdefgh\n'), lines: ['abcdefgh'], buffered: 0, held: '', maxLineBytes: 8 },
  { name: 'multi-byte line of exactly maxLineBytes', input: b('éééé\n'), lines: ['éééé'], buffered: 0, held: '', maxLineBytes: 8 },
  { name: 'CRLF line whose CR fits', input: b('abcdefg\r\n'), lines: ['abcdefg'], buffered: 0, held: '', maxLineBytes: 8 },
  { name: 'open line of exactly maxLineBytes is held', input: b('ok\nabcdefgh'), lines: ['ok'], buffered: 8, held: 'abcdefgh', maxLineBytes: 8 },
  { name: 'many short lines each under the limit', input: b('abcdefgh\nabcdefgh\nabcdefgh\n'), lines: ['abcdefgh', 'abcdefgh', 'abcdefgh'], buffered: 0, held: '', maxLineBytes: 8 },
];

const ERROR_CASES: readonly ErrorCase[] = [
  { name: 'terminated line one byte over', input: b('abcdefghi\n'), maxLineBytes: 8 },
  { name: 'open line one byte over', input: b('abcdefghi'), maxLineBytes: 8 },
  { name: 'terminated line over only because of its CR', input: b('abcdefgh\r\n'), maxLineBytes: 8 },
  { name: 'terminated multi-byte line over (5 × é = 10 bytes)', input: b('ééééé\n'), maxLineBytes: 8 },
  { name: 'open multi-byte line over', input: b('ok\n锁定钥'), maxLineBytes: 8 },
  { name: 'oversized line after a good one', input: b('ok\nabcdefghijklmnop\nqueued\n'), maxLineBytes: 8 },
  { name: 'much longer open line', input: b('x'.repeat(40)), maxLineBytes: 8 },
];

interface Chunking {
  readonly label: string;
  readonly chunks: readonly Buffer[];
}

/** One chunk; byte by byte; and two chunks split at every index (0 … length). */
function chunkings(input: Buffer): Chunking[] {
  const out: Chunking[] = [{ label: 'one chunk', chunks: [input] }];
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  out.push({ label: 'byte by byte', chunks: bytes });
  for (let i = 0; i <= input.length; i++) {
    out.push({ label: `split at ${i}`, chunks: [input.subarray(0, i), input.subarray(i)] });
  }
  return out;
}

function feed(decoder: LineDecoder, chunks: readonly Buffer[]): string[] {
  const lines: string[] = [];
  // Copy each chunk so the decoder cannot rely on the input's backing memory.
  for (const chunk of chunks) lines.push(...decoder.push(Buffer.from(chunk)));
  return lines;
}

describe('LineDecoder', () => {
  describe.each(CASES)('$name', (c) => {
    const all = chunkings(c.input);

    it.each(['one chunk', 'byte by byte', 'split at every index'])('%s', (mode) => {
      const selected = mode === 'split at every index' ? all.filter((x) => x.label.startsWith('split')) : all.filter((x) => x.label === mode);
      expect(selected.length).toBeGreaterThan(0);
      for (const { label, chunks } of selected) {
        const decoder = new LineDecoder(c.maxLineBytes);
        const lines = feed(decoder, chunks);
        expect({ label, lines }).toEqual({ label, lines: c.lines });
        expect({ label, buffered: decoder.buffered }).toEqual({ label, buffered: c.buffered });

        // The decoder keeps working after emitting lines: the held line completes, then a fresh line.
        expect({ label, completed: decoder.push(b('\n')) }).toEqual({ label, completed: [c.held] });
        expect(decoder.buffered).toBe(0);
        expect(decoder.push(b('queued\r\nok 3'))).toEqual(['queued']);
        expect(decoder.buffered).toBe(4);
        expect(decoder.push(b('3\n'))).toEqual(['ok 33']);
        expect(decoder.buffered).toBe(0);
      }
    });
  });

  describe.each(ERROR_CASES)('oversized: $name', (c) => {
    it.each(['one chunk', 'byte by byte', 'split at every index'])('%s → ProtocolError', (mode) => {
      const all = chunkings(c.input);
      const selected = mode === 'split at every index' ? all.filter((x) => x.label.startsWith('split')) : all.filter((x) => x.label === mode);
      for (const { label, chunks } of selected) {
        const decoder = new LineDecoder(c.maxLineBytes);
        const emitted: string[] = [];
        let thrown: unknown;
        for (const chunk of chunks) {
          try {
            emitted.push(...decoder.push(chunk));
          } catch (error) {
            thrown = error;
            break;
          }
        }
        expect({ label, isProtocolError: thrown instanceof ProtocolError }).toEqual({ label, isProtocolError: true });
        const err = thrown as ProtocolError;
        expect(err).toBeInstanceOf(DflockdError);
        expect(err.code).toBe('PROTOCOL_ERROR');
        expect(err.message).toContain(String(c.maxLineBytes));
        // Nothing longer than the bound ever comes out, and the held bytes are dropped.
        for (const line of emitted) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(c.maxLineBytes);
        expect(decoder.buffered).toBe(0);
      }
    });
  });

  describe.each(CASES)('feed (the callback form push is built on): $name', (c) => {
    it('calls back with the same lines as push, for every chunking', () => {
      for (const { label, chunks } of chunkings(c.input)) {
        const decoder = new LineDecoder(c.maxLineBytes);
        const lines: string[] = [];
        for (const chunk of chunks) decoder.feed(Buffer.from(chunk), (line) => lines.push(line));
        expect({ label, lines, buffered: decoder.buffered }).toEqual({ label, lines: c.lines, buffered: c.buffered });
      }
    });
  });

  it('feed hands over the lines before an oversized one in the same chunk, then throws', () => {
    const decoder = new LineDecoder(8);
    const lines: string[] = [];
    expect(() => decoder.feed(b('ok\nabcdefghijklmnop\nqueued\n'), (line) => lines.push(line))).toThrow(ProtocolError);
    expect(lines).toEqual(['ok']);
    expect(decoder.buffered).toBe(0);
  });

  it('throws on the push that makes an open line too long, before any LF arrives', () => {
    const decoder = new LineDecoder(4);
    expect(decoder.push(b('abcd'))).toEqual([]);
    expect(decoder.buffered).toBe(4);
    expect(() => decoder.push(b('e'))).toThrow(ProtocolError);
    expect(decoder.buffered).toBe(0);
  });

  it('returns lines completed before an oversized line in an earlier push', () => {
    const decoder = new LineDecoder(4);
    expect(decoder.push(b('ok\nab'))).toEqual(['ok']);
    expect(() => decoder.push(b('cdefgh\n'))).toThrow(ProtocolError);
  });

  it('holds a UTF-8 character split across pushes without mangling it', () => {
    const decoder = new LineDecoder();
    const smile = b('🙂');
    expect(decoder.push(Buffer.concat([b('a'), smile.subarray(0, 1)]))).toEqual([]);
    expect(decoder.push(smile.subarray(1, 3))).toEqual([]);
    expect(decoder.buffered).toBe(4);
    expect(decoder.push(Buffer.concat([smile.subarray(3), b('b\n')]))).toEqual(['a🙂b']);
    expect(decoder.push(b('\n'))).toEqual(['']);
  });

  it('copies held bytes, so the caller may reuse its buffer', () => {
    const decoder = new LineDecoder();
    const chunk = b('queued');
    expect(decoder.push(chunk)).toEqual([]);
    chunk.fill(0x78); // 'xxxxxx'
    expect(decoder.push(b('\n'))).toEqual(['queued']);
  });

  it('ignores empty chunks', () => {
    const decoder = new LineDecoder();
    expect(decoder.push(Buffer.alloc(0))).toEqual([]);
    expect(decoder.push(b('o'))).toEqual([]);
    expect(decoder.push(Buffer.alloc(0))).toEqual([]);
    expect(decoder.buffered).toBe(1);
    expect(decoder.push(b('k\n'))).toEqual(['ok']);
  });

  it('by default accepts a long stats line (bound is DEFAULT_MAX_REPLY_BYTES)', () => {
    expect(DEFAULT_MAX_REPLY_BYTES).toBeGreaterThanOrEqual(1024 * 1024);
    const json = `ok {"locks":[${Array.from({ length: 5000 }, (_, i) => `{"key":"k${i}"}`).join(',')}]}`;
    const decoder = new LineDecoder();
    const input = b(`${json}\n`);
    const lines: string[] = [];
    for (let i = 0; i < input.length; i += 1000) lines.push(...decoder.push(input.subarray(i, i + 1000)));
    expect(lines).toEqual([json]);
    expect(decoder.buffered).toBe(0);
  });

  it('decodes thousands of lines across many pushes in order', () => {
    const decoder = new LineDecoder(64);
    const expected = Array.from({ length: 2000 }, (_, i) => `ok tok${i} ${i % 60}`);
    const input = b(expected.map((l) => `${l}\r\n`).join(''));
    const lines: string[] = [];
    // Irregular chunk sizes 1…37.
    for (let i = 0, n = 1; i < input.length; i += n, n = (n * 7 + 3) % 37 + 1) lines.push(...decoder.push(input.subarray(i, i + n)));
    expect(lines).toEqual(expected);
    expect(decoder.buffered).toBe(0);
  });
});

describe('encodeRequest', () => {
  it.each([
    ['l', 'orders', '10 33', 'l\norders\n10 33\n'],
    ['e', 'orders', '', 'e\norders\n\n'],
    ['stats', '_', '', 'stats\n_\n\n'],
    ['n', 'clé', 'tok 5', 'n\nclé\ntok 5\n'],
  ])('%s %s %s → three LF-terminated lines', (cmd, key, arg, wire) => {
    expect(encodeRequest(cmd, key, arg)).toBe(wire);
  });

  it('round-trips through the decoder as exactly three lines', () => {
    const decoder = new LineDecoder(256);
    const wire = encodeRequest('sl', 'ключ', '0 3 60');
    expect(decoder.push(b(wire))).toEqual(['sl', 'ключ', '0 3 60']);
    expect(decoder.buffered).toBe(0);
  });
});
