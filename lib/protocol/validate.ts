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
  if (typeof value !== 'string') throw new InvalidArgumentError(argument, `${what} must be a string, got ${typeof value}`);
  if (isWord(value)) return value;
  // Refused: say why.
  if (value.length === 0) throw new InvalidArgumentError(argument, `${what} must not be empty`);
  if (FORBIDDEN.test(value)) throw new InvalidArgumentError(argument, `${what} must not contain whitespace, CR, LF or NUL (got ${JSON.stringify(value)})`);
  throw new InvalidArgumentError(argument, `${what} is limited to ${MAX_LINE_BYTES} UTF-8 bytes (got ${utf8ByteLength(value)})`);
}

/** Refuses anything but a finite integer ≥ `min` (seconds, limits). Values beyond 2^31 are refused too: the server's duration maths would wrap. */
export function checkInteger(value: unknown, argument: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(argument, `must be a finite number, got ${String(value)}`);
  }
  if (!Number.isInteger(value)) throw new InvalidArgumentError(argument, `must be a whole number of seconds or units, got ${value}`);
  if (value < min) throw new InvalidArgumentError(argument, `must be ≥ ${min}, got ${value}`);
  if (value > 2_147_483_647) throw new InvalidArgumentError(argument, `must be ≤ 2147483647, got ${value}`);
  return value;
}

/** Refuses a number that is not finite, or outside the open interval (lo, hi). */
export function checkRatio(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new InvalidArgumentError(argument, `must be a number strictly between 0 and 1, got ${String(value)}`);
  }
  return value;
}

/** Refuses a duration in seconds that is not a finite positive number. */
export function checkPositiveSeconds(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(argument, `must be a finite number of seconds > 0, got ${String(value)}`);
  }
  return value;
}
