import { DflockdError } from '../../lib/errors';
import { encodeRequest } from '../../lib/protocol/codec';
import {
  Request,
  WIRE_VERBS,
  authRequest,
  enqueueRequest,
  lockRequest,
  pingRequest,
  releaseRequest,
  renewRequest,
  semEnqueueRequest,
  semLockRequest,
  statsRequest,
  waitRequest,
} from '../../lib/protocol/commands';
import { MAX_LINE_BYTES, checkInteger, checkKey, checkPositiveSeconds, checkRatio, checkToken } from '../../lib/protocol/validate';
import { refusal } from '../helpers/refusal';

const TOKEN = '0123456789abcdef0123456789abcdef';

type Wire = Pick<Request, 'name' | 'verb' | 'key' | 'arg' | 'expect' | 'blocking'>;

describe('command builders: exact wire lines (PROTOCOL.md §1.4)', () => {
  const CASES: ReadonlyArray<readonly [string, () => Request, Wire]> = [
    ['l with timeout and lease', () => lockRequest('orders', 10, 33), { name: 'lock', verb: 'l', key: 'orders', arg: '10 33', expect: 'grant', blocking: true }],
    ['l without lease', () => lockRequest('orders', 10), { name: 'lock', verb: 'l', key: 'orders', arg: '10', expect: 'grant', blocking: true }],
    ['l try-lock (timeout 0) does not block', () => lockRequest('orders', 0, 5), { name: 'lock', verb: 'l', key: 'orders', arg: '0 5', expect: 'grant', blocking: false }],
    ['sl with lease', () => semLockRequest('pool', 5, 3, 20), { name: 'semLock', verb: 'sl', key: 'pool', arg: '5 3 20', expect: 'grant', blocking: true }],
    ['sl without lease, try once', () => semLockRequest('pool', 0, 3), { name: 'semLock', verb: 'sl', key: 'pool', arg: '0 3', expect: 'grant', blocking: false }],
    ['r', () => releaseRequest('orders', TOKEN), { name: 'release', verb: 'r', key: 'orders', arg: TOKEN, expect: 'ok', blocking: false }],
    ['sr', () => releaseRequest('pool', TOKEN, true), { name: 'semRelease', verb: 'sr', key: 'pool', arg: TOKEN, expect: 'ok', blocking: false }],
    ['n always carries the lease when given', () => renewRequest('orders', TOKEN, 33), { name: 'renew', verb: 'n', key: 'orders', arg: `${TOKEN} 33`, expect: 'renewed', blocking: false }],
    ['n without lease', () => renewRequest('orders', TOKEN), { name: 'renew', verb: 'n', key: 'orders', arg: TOKEN, expect: 'renewed', blocking: false }],
    ['sn with lease', () => renewRequest('pool', TOKEN, 7, true), { name: 'semRenew', verb: 'sn', key: 'pool', arg: `${TOKEN} 7`, expect: 'renewed', blocking: false }],
    ['e with no lease → empty arg', () => enqueueRequest('orders'), { name: 'enqueue', verb: 'e', key: 'orders', arg: '', expect: 'enqueue', blocking: false }],
    ['e with lease → the bare number', () => enqueueRequest('orders', 60), { name: 'enqueue', verb: 'e', key: 'orders', arg: '60', expect: 'enqueue', blocking: false }],
    ['se without lease', () => semEnqueueRequest('pool', 3), { name: 'semEnqueue', verb: 'se', key: 'pool', arg: '3', expect: 'enqueue', blocking: false }],
    ['se with lease', () => semEnqueueRequest('pool', 3, 9), { name: 'semEnqueue', verb: 'se', key: 'pool', arg: '3 9', expect: 'enqueue', blocking: false }],
    ['w blocking', () => waitRequest('orders', 10), { name: 'wait', verb: 'w', key: 'orders', arg: '10', expect: 'grant', blocking: true }],
    ['w with 0 checks once', () => waitRequest('orders', 0), { name: 'wait', verb: 'w', key: 'orders', arg: '0', expect: 'grant', blocking: false }],
    ['sw', () => waitRequest('pool', 4, true), { name: 'semWait', verb: 'sw', key: 'pool', arg: '4', expect: 'grant', blocking: true }],
    ['auth', () => authRequest('s3cret'), { name: 'auth', verb: 'auth', key: '_', arg: 's3cret', expect: 'ok', blocking: false }],
    ['stats', () => statsRequest(), { name: 'stats', verb: 'stats', key: '_', arg: '', expect: 'stats', blocking: false }],
    ['ping', () => pingRequest(), { name: 'ping', verb: 'ping', key: '_', arg: '', expect: 'ping', blocking: false }],
  ];

  it.each(CASES)('%s', (_label, build, wire) => {
    const req = build();
    expect({ ...req }).toEqual(wire);
    expect(req.verb).toBe(WIRE_VERBS[req.name]);
  });

  it('-0 is written as 0', () => {
    expect(lockRequest('k', -0).arg).toBe('0');
    expect(lockRequest('k', -0).blocking).toBe(false);
  });

  it('frames every request as exactly three lines, each within MAX_LINE_BYTES', () => {
    const key = 'é'.repeat(128);
    for (const [, build] of CASES) {
      const r = build();
      const wire = encodeRequest(r.verb, r.key, r.arg);
      const lines = wire.split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[3]).toBe('');
    }
    const big = lockRequest(key, 2_147_483_647, 2_147_483_647);
    for (const line of encodeRequest(big.verb, big.key, big.arg).split('\n')) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    }
  });

  it('WIRE_VERBS is the frozen table of PROTOCOL.md verbs', () => {
    expect(Object.isFrozen(WIRE_VERBS)).toBe(true);
    expect({ ...WIRE_VERBS }).toEqual({
      lock: 'l',
      release: 'r',
      renew: 'n',
      enqueue: 'e',
      wait: 'w',
      semLock: 'sl',
      semRelease: 'sr',
      semRenew: 'sn',
      semEnqueue: 'se',
      semWait: 'sw',
      auth: 'auth',
      stats: 'stats',
      ping: 'ping',
    });
  });
});

describe('keys and tokens that are accepted', () => {
  it.each([
    ['256 ASCII bytes', 'a'.repeat(256)],
    ['128 × é (256 bytes)', 'é'.repeat(128)],
    ['64 × 🙂 (256 bytes)', '🙂'.repeat(64)],
    ['85 × 中 (255 bytes)', '中'.repeat(85)],
    ['single character', 'x'],
    ['punctuation', 'user:42/orders.v2-x_y'],
    ['control byte other than NUL', 'a\u0001b'],
    ['non-Latin', 'ключ'],
  ])('%s', (_label, value) => {
    expect(lockRequest(value, 1).key).toBe(value);
    expect(releaseRequest('k', value).arg).toBe(value);
    expect(renewRequest('k', value, 5).arg).toBe(`${value} 5`);
    expect(authRequest(value).arg).toBe(value);
  });
});

describe('bad input is refused with InvalidArgumentError naming the argument (API.md §5)', () => {
  const BAD_WORDS: ReadonlyArray<readonly [string, unknown]> = [
    ['empty', ''],
    ['space', 'a b'],
    ['leading space', ' k'],
    ['trailing space', 'k '],
    ['TAB', 'a\tb'],
    ['CR', 'a\rb'],
    ['trailing CR', 'ab\r'],
    ['LF', 'a\nb'],
    ['NUL', 'a\0b'],
    ['VT', 'a\vb'],
    ['FF', 'a\fb'],
    ['257 ASCII bytes', 'a'.repeat(257)],
    ['129 × é (258 bytes, 129 characters)', 'é'.repeat(129)],
    ['65 × 🙂 (260 bytes)', '🙂'.repeat(65)],
    ['255 ASCII + é (257 bytes, 256 characters)', `${'a'.repeat(255)}é`],
    ['not a string (number)', 42],
    ['not a string (undefined)', undefined],
    ['not a string (null)', null],
  ];

  const KEYED: ReadonlyArray<readonly [string, (key: never) => unknown]> = [
    ['lock', (k) => lockRequest(k, 1, 5)],
    ['semLock', (k) => semLockRequest(k, 1, 2, 5)],
    ['release', (k) => releaseRequest(k, TOKEN)],
    ['semRelease', (k) => releaseRequest(k, TOKEN, true)],
    ['renew', (k) => renewRequest(k, TOKEN, 5)],
    ['semRenew', (k) => renewRequest(k, TOKEN, 5, true)],
    ['enqueue', (k) => enqueueRequest(k)],
    ['semEnqueue', (k) => semEnqueueRequest(k, 2)],
    ['wait', (k) => waitRequest(k, 1)],
    ['semWait', (k) => waitRequest(k, 1, true)],
  ];

  const TOKENED: ReadonlyArray<readonly [string, (token: never) => unknown, string]> = [
    ['release', (t) => releaseRequest('k', t), 'token'],
    ['semRelease', (t) => releaseRequest('k', t, true), 'token'],
    ['renew', (t) => renewRequest('k', t, 5), 'token'],
    ['renew without lease', (t) => renewRequest('k', t), 'token'],
    ['auth', (t) => authRequest(t), 'authToken'],
  ];

  function expectRefused(fn: () => unknown, argument: string): void {
    const err = refusal(fn);
    expect(err).toBeInstanceOf(DflockdError);
    expect(err.argument).toBe(argument);
    expect(err.message.startsWith(`${argument}:`)).toBe(true);
  }

  describe.each(BAD_WORDS)('%s', (_label, bad) => {
    it.each(KEYED)('as the key of %s → key', (_name, build) => {
      expectRefused(() => build(bad as never), 'key');
    });
    it.each(TOKENED)('as the token of %s → %s', (_name, build, argument) => {
      expectRefused(() => build(bad as never), argument);
    });
  });

  const BAD_NUMBERS: ReadonlyArray<readonly [string, unknown]> = [
    ['1.5', 1.5],
    ['0.1', 0.1],
    ['-1', -1],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['beyond 2^31 − 1 (the server would wrap)', 9_999_999_999],
    ['2^31', 2_147_483_648],
    ['a numeric string', '10'],
    ['null', null],
  ];

  describe.each(BAD_NUMBERS)('number %s', (_label, bad) => {
    const b = bad as never;
    it.each<readonly [string, () => unknown, string]>([
      ['lock timeout', () => lockRequest('k', b), 'acquireTimeoutS'],
      ['lock lease', () => lockRequest('k', 1, b), 'leaseTtlS'],
      ['semLock timeout', () => semLockRequest('k', b, 2), 'acquireTimeoutS'],
      ['semLock limit', () => semLockRequest('k', 1, b), 'limit'],
      ['semLock lease', () => semLockRequest('k', 1, 2, b), 'leaseTtlS'],
      ['renew lease', () => renewRequest('k', TOKEN, b), 'leaseTtlS'],
      ['semRenew lease', () => renewRequest('k', TOKEN, b, true), 'leaseTtlS'],
      ['enqueue lease', () => enqueueRequest('k', b), 'leaseTtlS'],
      ['semEnqueue limit', () => semEnqueueRequest('k', b), 'limit'],
      ['semEnqueue lease', () => semEnqueueRequest('k', 2, b), 'leaseTtlS'],
      ['wait timeout', () => waitRequest('k', b), 'timeoutS'],
      ['semWait timeout', () => waitRequest('k', b, true), 'timeoutS'],
    ])('%s → %s', (_name, fn, argument) => expectRefused(fn, argument));
  });

  it.each<readonly [string, () => unknown, string]>([
    ['lock lease 0', () => lockRequest('k', 1, 0), 'leaseTtlS'],
    ['semLock lease 0', () => semLockRequest('k', 1, 2, 0), 'leaseTtlS'],
    ['renew lease 0', () => renewRequest('k', TOKEN, 0), 'leaseTtlS'],
    ['enqueue lease 0', () => enqueueRequest('k', 0), 'leaseTtlS'],
    ['semEnqueue lease 0', () => semEnqueueRequest('k', 2, 0), 'leaseTtlS'],
    ['semLock limit 0', () => semLockRequest('k', 1, 0), 'limit'],
    ['semEnqueue limit 0', () => semEnqueueRequest('k', 0), 'limit'],
  ])('%s → %s', (_name, fn, argument) => expectRefused(fn, argument));

  it('accepts the boundaries: timeout 0, lease 1, limit 1, 2^31 − 1', () => {
    expect(lockRequest('k', 0, 1).arg).toBe('0 1');
    expect(semLockRequest('k', 0, 1, 1).arg).toBe('0 1 1');
    expect(semEnqueueRequest('k', 1).arg).toBe('1');
    expect(waitRequest('k', 0).arg).toBe('0');
    expect(lockRequest('k', 2_147_483_647, 2_147_483_647).arg).toBe('2147483647 2147483647');
  });
});

describe('validate.ts helpers', () => {
  it('checkKey / checkToken return the value and use the given argument name', () => {
    expect(checkKey('k')).toBe('k');
    expect(checkToken('t')).toBe('t');
    expect(() => checkKey('', 'keys[3]')).toThrow(expect.objectContaining({ argument: 'keys[3]' }));
    expect(() => checkToken('a b')).toThrow(expect.objectContaining({ argument: 'token' }));
  });

  it('checkInteger enforces the minimum', () => {
    expect(checkInteger(5, 'x', 5)).toBe(5);
    expect(() => checkInteger(4, 'x', 5)).toThrow(expect.objectContaining({ argument: 'x', code: 'INVALID_ARGUMENT' }));
  });

  it.each([0, 1, -0.5, 1.5, NaN, Infinity, '0.5'])('checkRatio refuses %p', (v) => {
    expect(() => checkRatio(v, 'renewRatio')).toThrow(expect.objectContaining({ argument: 'renewRatio' }));
  });

  it('checkRatio accepts values strictly inside (0, 1)', () => {
    expect(checkRatio(0.5, 'r')).toBe(0.5);
    expect(checkRatio(Number.EPSILON, 'r')).toBe(Number.EPSILON);
    expect(checkRatio(0.999, 'r')).toBe(0.999);
  });

  it.each([0, -1, NaN, Infinity, '3'])('checkPositiveSeconds refuses %p', (v) => {
    expect(() => checkPositiveSeconds(v, 'connectTimeoutS')).toThrow(expect.objectContaining({ argument: 'connectTimeoutS' }));
  });

  it('checkPositiveSeconds accepts fractions', () => {
    expect(checkPositiveSeconds(0.25, 's')).toBe(0.25);
  });
});
