import { atoi, durationSeconds, fields, secondsToDuration, trimSpace } from '../../../lib/testing/server/go-text';

// Strings here are byte strings (one char per byte), as the server sees them.
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('Go strconv.Atoi', () => {
  test.each([
    ['0', 0n], ['+7', 7n], ['007', 7n], ['-0', 0n], ['-12', -12n],
    ['9223372036854775807', 9223372036854775807n], ['-9223372036854775808', -9223372036854775808n],
  ])('accepts %j', (s, n) => expect(atoi(s)).toBe(n));

  test.each(['', '+', '-', '1.5', 'abc', '0x10', '1_000', ' 1', '1 ', '9223372036854775808', '-9223372036854775809', '１'])(
    'refuses %j',
    (s) => expect(atoi(s)).toBeUndefined(),
  );
});

describe('time.Duration(n) * time.Second wraps like int64', () => {
  test.each([
    [5n, 5],
    [9223372036n, 9223372036],
    [9999999999n, -8446744074], // wraps negative
    [18446744074n, 0], // wraps to ~0.29 s
  ])('%s s -> %s whole seconds', (n, s) => expect(durationSeconds(secondsToDuration(n))).toBe(s));

  test('18446744074 s is about 0.29 s', () => {
    const ns = secondsToDuration(18446744074n);
    expect(ns).toBe(290448384n);
  });
});

describe('Go strings.Fields / TrimSpace on byte strings', () => {
  test.each([
    ['0', ['0']],
    ['  0 \t 5  ', ['0', '5']],
    ['', []],
    [' \t ', []],
    ['a\vb\fc\rd', ['a', 'b', 'c', 'd']],
    [utf8('1\u00a02'), ['1', '2']], // NBSP is Unicode white space
    [utf8('1\u30002'), ['1', '2']],
    [utf8('é 2'), [utf8('é'), '2']],
    ['\xa0', ['\xa0']], // a lone 0xA0 byte is invalid UTF-8, not a space
  ])('fields(%j)', (s, out) => expect(fields(s)).toEqual(out));

  test.each([
    ['  s3cret \t\r', 's3cret'],
    ['tok extra', 'tok extra'],
    [utf8('\u2003tok\u00a0'), 'tok'],
    ['\x85tok', '\x85tok'],
    ['   ', ''],
  ])('trimSpace(%j)', (s, out) => expect(trimSpace(s)).toBe(out));
});
