import { goJsonString } from '../../../lib/testing/server/stats';

// Expected outputs are what Go's encoding/json writes for the same key bytes.
const bytes = (...b: number[]): string => Buffer.from(b).toString('latin1');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('goJsonString (Go encoding/json string escaping)', () => {
  test.each([
    ['plain', 'k1', '"k1"'],
    ['HTML-sensitive characters', 'a<b>&c', '"a\\u003cb\\u003e\\u0026c"'],
    ['quote and backslash', 'a"b\\c', '"a\\"b\\\\c"'],
    ['short control escapes', bytes(0x08, 0x0c, 0x0a, 0x0d, 0x09), '"\\b\\f\\n\\r\\t"'],
    ['other control characters', bytes(0x00, 0x01, 0x0b, 0x1f), '"\\u0000\\u0001\\u000b\\u001f"'],
    ['DEL passes', bytes(0x7f), '"\x7f"'],
    ['valid UTF-8 passes as bytes', utf8('é日本🔒'), `"${utf8('é日本🔒')}"`],
    ['U+2028 and U+2029', utf8('a\u2028b\u2029'), '"a\\u2028b\\u2029"'],
    ['each invalid byte is one \\ufffd', bytes(0xff, 0xfe, 0x00, 0x01), '"\\ufffd\\ufffd\\u0000\\u0001"'],
    ['truncated sequence', bytes(0xe2, 0x82, 0x41), '"\\ufffd\\ufffdA"'],
    ['surrogate half', bytes(0xed, 0xa0, 0x80), '"\\ufffd\\ufffd\\ufffd"'],
    ['overlong encoding', bytes(0xc0, 0xaf), '"\\ufffd\\ufffd"'],
    ['beyond U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), '"\\ufffd\\ufffd\\ufffd\\ufffd"'],
  ])('%s', (_name, input, expected) => expect(goJsonString(input)).toBe(expected));
});
