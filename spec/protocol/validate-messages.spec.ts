import { InvalidArgumentError } from '../../lib/errors.js';
import { resolveClientOptions, resolveLockOptions } from '../../lib/options.js';
import { checkInteger, describeValue } from '../../lib/protocol/validate.js';

// A refusal says what was given (a string is called a string: "5" from an environment variable
// is not 5) and what is wanted, in the argument's own unit.
function refusal(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('not refused');
}

test.each<[unknown, string]>([
  ['5', 'the string "5"'],
  ['', 'the string ""'],
  [2.5, '2.5'],
  [Number.NaN, 'NaN'],
  [-Infinity, '-Infinity'],
  [undefined, 'undefined'],
  [null, 'null'],
  [true, 'true'],
  [10n, 'the bigint 10n'],
  [[1], 'an array'],
  [{ s: 1 }, 'an object'],
  [() => 1, 'a function'],
])('describeValue(%p) is %s', (value, text) => {
  expect(describeValue(value)).toBe(text);
});

test.each<[unknown, string, number, RegExp]>([
  ['5', 'acquireTimeoutS', 0, /^acquireTimeoutS: must be a whole number of seconds ≥ 0, got the string "5"/],
  [2.5, 'limit', 1, /^limit: must be a whole number of slots ≥ 1, got 2\.5/],
  [0, 'limit', 1, /^limit: must be a whole number of slots ≥ 1, got 0/],
  [1.5, 'leaseTtlS', 1, /^leaseTtlS: must be a whole number of seconds ≥ 1, got 1\.5/],
  [Number.NaN, 'timeoutS', 0, /^timeoutS: must be a whole number of seconds ≥ 0, got NaN/],
  [2 ** 40, 'leaseTtlS', 1, /^leaseTtlS: must be a whole number of seconds ≥ 1 and ≤ 2147483647, got 1099511627776/],
  [0.5, 'maxSharedConnections', 1, /^maxSharedConnections: must be a whole number of connections ≥ 1, got 0\.5/],
  [-1, 'server', 0, /^server: must be a whole number ≥ 0, got -1/],
])('checkInteger(%p, %s, %d)', (value, argument, min, message) => {
  const error = refusal(() => checkInteger(value, argument, min));
  expect(error.argument).toBe(argument);
  expect(error.message).toMatch(message);
});

test('an explicit unit wins over the one inferred from the name', () => {
  expect(refusal(() => checkInteger(2.5, 'retries', 0, 'attempts')).message).toMatch(/a whole number of attempts ≥ 0, got 2\.5/);
});

test('options: one wording for every kind of value', () => {
  expect(refusal(() => resolveLockOptions({ acquireTimeoutS: '10' as unknown as number }, { renewRatio: 0.5 })).message).toMatch(/acquireTimeoutS: must be a whole number of seconds ≥ 0, got the string "10"/);
  expect(refusal(() => resolveClientOptions({ connectTimeoutS: '3' as unknown as number })).message).toMatch(/connectTimeoutS: must be a finite number of seconds > 0, got the string "3"/);
  expect(refusal(() => resolveClientOptions({ renewRatio: '0.5' as unknown as number })).message).toMatch(/renewRatio: must be a number strictly between 0 and 1, got the string "0\.5"/);
});
