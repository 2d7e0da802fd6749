import { InvalidArgumentError } from '../errors.js';
import { utf8ByteLength } from './utf8.js';

/** The server reads at most this many bytes per line (dflockd `MaxLineBytes`). */
export const MAX_LINE_BYTES = 256;

// Space, TAB, CR, LF make a key invalid on the server; NUL is refused here too because it
// is never what a user meant and it cannot be shown in stats.
const FORBIDDEN = /[\s\0]/;

/** A string of at most this many UTF-16 units has at most 255 UTF-8 bytes: no need to count them. */
const SURELY_SHORT = Math.floor((MAX_LINE_BYTES - 1) / 3);

/** True for printable ASCII without spaces in `value[start, end)` (the common key): nothing FORBIDDEN can be in it. */
function plainAscii(value: string, start = 0, end = value.length): boolean {
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * Refuses a key the server would reject or mis-frame: empty, containing whitespace, CR, LF or NUL,
 * or longer than 256 UTF-8 bytes.
 */
export function checkKey(key: unknown, argument = 'key'): string {
  return checkWord(key, argument, 'a key');
}

/** Refuses a token or auth secret with the same rules as keys. */
export function checkToken(token: unknown, argument = 'token'): string {
  return checkWord(token, argument, 'a token');
}

/**
 * True when `value` passes {@link checkKey} / {@link checkToken}: how the reply parser accepts a
 * token without throwing, so a granted token never needs checking again when it is released.
 */
export function isWord(value: string): boolean {
  if (value.length === 0) return false;
  if (!plainAscii(value) && FORBIDDEN.test(value)) return false;
  return value.length <= SURELY_SHORT || utf8ByteLength(value) <= MAX_LINE_BYTES;
}

/**
 * {@link isWord} for `line[start, end)`, read in place: the reply parser checks a token before
 * slicing it out (a slice of a long line is a view, slow to scan character by character).
 */
export function isWordIn(line: string, start: number, end: number): boolean {
  if (end - start <= MAX_LINE_BYTES && end > start && plainAscii(line, start, end)) return true;
  return isWord(line.slice(start, end));
}

function checkWord(value: unknown, argument: string, what: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(argument, `${what} must be a string, got ${describeValue(value)}`);
  if (isWord(value)) return value;
  // Refused: say why.
  if (value.length === 0) throw new InvalidArgumentError(argument, `${what} must not be empty`);
  if (FORBIDDEN.test(value)) throw new InvalidArgumentError(argument, `${what} must not contain whitespace, CR, LF or NUL (got ${JSON.stringify(value)})`);
  throw new InvalidArgumentError(argument, `${what} is limited to ${MAX_LINE_BYTES} UTF-8 bytes (got ${utf8ByteLength(value)})`);
}

/**
 * A value as an error message shows it: strings quoted and called strings (`the string "5"`, so
 * a number read from an environment variable or JSON is told apart from the number 5), the rest
 * by kind or as written.
 *
 * @example
 * ```ts
 * describeValue('5'); // 'the string "5"'
 * describeValue(2.5); // '2.5'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * The unit an integer argument counts, for its error message: seconds for the `…S` options
 * (`acquireTimeoutS`, `leaseTtlS`), slots for a semaphore's `limit`.
 */
function unitOf(argument: string): string | undefined {
  if (/S$/.test(argument)) return 'seconds';
  if (argument === 'limit') return 'slots';
  if (argument === 'maxSharedConnections') return 'connections';
  return undefined;
}

/**
 * Refuses anything but a finite integer ≥ `min`, counted in `unit` (by default inferred from the
 * argument's name: seconds for `…S`, slots for `limit`). Values beyond 2^31 are refused too: the
 * server's duration maths would wrap.
 */
export function checkInteger(value: unknown, argument: string, min: number, unit: string | undefined = unitOf(argument)): number {
  const wanted = `a whole number${unit === undefined ? '' : ` of ${unit}`} ≥ ${min}`;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(argument, `must be ${wanted}, got ${describeValue(value)}`);
  }
  if (value > 2_147_483_647) throw new InvalidArgumentError(argument, `must be ${wanted} and ≤ 2147483647, got ${value}`);
  return value;
}

/** Refuses a number that is not finite, or outside the open interval (lo, hi). */
export function checkRatio(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new InvalidArgumentError(argument, `must be a number strictly between 0 and 1, got ${describeValue(value)}`);
  }
  return value;
}

/** Refuses a duration in seconds that is not a finite positive number. */
export function checkPositiveSeconds(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(argument, `must be a finite number of seconds > 0, got ${describeValue(value)}`);
  }
  return value;
}
