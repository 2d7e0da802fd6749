import { InvalidArgumentError } from '../../lib/errors.js';

/** Calls `fn`, expects it to throw an InvalidArgumentError with code INVALID_ARGUMENT, and returns that error. */
export function refusal(fn: () => unknown): InvalidArgumentError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidArgumentError);
  const err = thrown as InvalidArgumentError;
  expect(err.code).toBe('INVALID_ARGUMENT');
  return err;
}
