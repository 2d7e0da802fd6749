import { LINE_TOO_LONG, LineReader } from '../../../lib/testing/server/line-reader';

type Out = string | 'TOO_LONG' | 'NEED_MORE';

// Feeds `input` in the given chunks, reading every line as soon as it can, and
// draining over-long lines as the server does.
function read(chunks: Buffer[]): Out[] {
  const r = new LineReader();
  const out: Out[] = [];
  let draining = false;
  for (const chunk of chunks) {
    r.push(chunk);
    for (;;) {
      if (draining) {
        if (!r.drain()) break;
        draining = false;
        continue;
      }
      const line = r.next();
      if (line === null) break;
      if (line === LINE_TOO_LONG) {
        out.push('TOO_LONG');
        draining = true;
        continue;
      }
      out.push(line);
    }
  }
  return out;
}

function splits(input: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[input], [...input].map((b) => Buffer.from([b]))];
  for (let i = 1; i < input.length; i++) ways.push([input.subarray(0, i), input.subarray(i)]);
  return ways;
}

const cases: Array<[string, Buffer, Out[]]> = [
  ['plain lines', Buffer.from('l\nk\n0\n'), ['l', 'k', '0']],
  ['CRLF', Buffer.from('l\r\nk\r\n0\r\n'), ['l', 'k', '0']],
  ['every trailing CR stripped', Buffer.from('tok\r\r\r\n'), ['tok']],
  ['inner CR kept', Buffer.from('a\rb\n'), ['a\rb']],
  ['empty lines are lines', Buffer.from('\n\n\n'), ['', '', '']],
  ['bytes, not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0a]), ['\xff\xfe\x00\x01']],
  ['256 bytes fit', Buffer.from('k'.repeat(256) + '\n'), ['k'.repeat(256)]],
  ['255 bytes + CR fit', Buffer.from('k'.repeat(255) + '\r\n'), ['k'.repeat(255)]],
  ['256 bytes + CR is too long', Buffer.from('k'.repeat(256) + '\r\nnext\n'), ['TOO_LONG', 'next']],
  ['257 bytes is too long', Buffer.from('k'.repeat(257) + '\nnext\n'), ['TOO_LONG', 'next']],
  ['counted in bytes', Buffer.from('é'.repeat(129) + '\n'), ['TOO_LONG']],
];

describe('LineReader', () => {
  test.each(cases)('%s: one chunk, byte by byte, split at every index', (_name, input, expected) => {
    for (const chunks of splits(input)) expect(read(chunks)).toEqual(expected);
  });

  test('an incomplete line waits for more', () => {
    const r = new LineReader();
    r.push(Buffer.from('abc'));
    expect(r.next()).toBeNull();
    expect(r.buffered).toBe(3);
  });

  test('257 bytes without LF are already known to be too long', () => {
    const r = new LineReader();
    r.push(Buffer.alloc(257, 0x41));
    expect(r.next()).toBe(LINE_TOO_LONG);
  });
});
