import { InvalidArgumentError } from '../../lib/errors';
import { fenceOf } from '../../lib/protocol/fence';

describe('fenceOf', () => {
  test.each([
    ['00000000000000000000000000000000', 0n],
    ['0000000000000001ffffffffffffffff', 1n],
    ['0000000000000002a1b2c3d4e5f60718', 2n],
    ['18c2f5e0a1b2c3d4' + '0123456789abcdef', 0x18c2f5e0a1b2c3d4n],
    ['ffffffffffffffff0000000000000000', (1n << 64n) - 1n],
  ])('%s has fence %s (the first 16 hex digits, big-endian)', (token, fence) => {
    expect(fenceOf(token)).toBe(fence);
  });

  test('the salt does not change the fence, the prefix orders tokens', () => {
    expect(fenceOf('00000000000000ff' + 'aaaaaaaaaaaaaaaa')).toBe(fenceOf('00000000000000ff' + '0000000000000000'));
    expect(fenceOf('0000000000000100' + '0000000000000000')).toBeGreaterThan(fenceOf('00000000000000ff' + 'ffffffffffffffff'));
  });

  test.each([
    ['', 'empty'],
    ['0000000000000001ffffffffffffff', '30 digits'],
    ['0000000000000001ffffffffffffffff0', '33 digits'],
    ['0000000000000001FFFFFFFFFFFFFFFF', 'upper case'],
    ['0000000000000001fffffffffffffffg', 'not hex'],
    [' 0000000000000001ffffffffffffffff', 'leading space'],
    ['0000000000000001ffffffffffffffff\n', 'trailing LF'],
  ])('refuses %j (%s) with an InvalidArgumentError naming token', (token) => {
    let caught: unknown;
    try {
      fenceOf(token);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).argument).toBe('token');
    expect((caught as Error).message).toMatch(/^token: must be 32 lowercase hex digits/);
  });

  test('refuses a non-string', () => {
    expect(() => fenceOf(42 as unknown as string)).toThrow(/token: must be 32 lowercase hex digits.*got number/);
  });
});
