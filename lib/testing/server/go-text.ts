/**
 * The few Go standard-library text rules dflockd's parser relies on, over byte
 * strings (one JS char per byte, i.e. latin1-decoded), so that odd input is
 * accepted or refused exactly as the Go server does.
 *
 * @module
 */

const NS_PER_SECOND = 1_000_000_000n;

/**
 * Width in bytes of the Unicode white-space rune (Go `unicode.IsSpace`) that
 * starts at `i` of the byte string `s`, or 0. Multi-byte spaces only count when
 * they are valid UTF-8, as Go decodes them.
 */
export function spaceWidthAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return 1;
  if (c < 0xc2) return 0;
  const c1 = s.charCodeAt(i + 1);
  if (c === 0xc2) return c1 === 0x85 || c1 === 0xa0 ? 2 : 0; // NEL, NBSP
  const c2 = s.charCodeAt(i + 2);
  if (c === 0xe1) return c1 === 0x9a && c2 === 0x80 ? 3 : 0; // U+1680
  if (c === 0xe2) {
    if (c1 === 0x80) return (c2 >= 0x80 && c2 <= 0x8a) || c2 === 0xa8 || c2 === 0xa9 || c2 === 0xaf ? 3 : 0;
    return c1 === 0x81 && c2 === 0x9f ? 3 : 0; // U+205F
  }
  if (c === 0xe3) return c1 === 0x80 && c2 === 0x80 ? 3 : 0; // U+3000
  return 0;
}

/** Width of the white-space rune that ends just before `end`, or 0 (for trimming from the right). */
function spaceWidthBefore(s: string, end: number): number {
  if (end >= 1 && spaceWidthAt(s, end - 1) === 1) return 1;
  if (end >= 2 && spaceWidthAt(s, end - 2) === 2) return 2;
  if (end >= 3 && spaceWidthAt(s, end - 3) === 3) return 3;
  return 0;
}

/** Go `strings.TrimSpace` on a byte string. */
export function trimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  for (let w = spaceWidthAt(s, start); w > 0 && start < end; w = spaceWidthAt(s, start)) start += w;
  for (let w = spaceWidthBefore(s, end); w > 0 && end > start; w = spaceWidthBefore(s, end)) end -= w;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * Go `strings.Fields` on a byte string. Scanning byte by byte is equivalent to
 * Go's rune scan because no space rune can start inside a valid multi-byte rune.
 */
export function fields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  let start = -1;
  while (i < s.length) {
    const w = spaceWidthAt(s, i);
    if (w > 0) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
      i += w;
    } else {
      if (start < 0) start = i;
      i += 1;
    }
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const DECIMAL = /^[+-]?[0-9]+$/;

/**
 * Go `strconv.Atoi` on a 64-bit platform: optional sign, decimal digits only
 * (`+7`, `007`, `-0` are fine; `1.5`, `0x10`, `1_000`, overflow are not).
 * Returns `undefined` where Go returns an error.
 */
export function atoi(s: string): bigint | undefined {
  if (!DECIMAL.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * `time.Duration(n) * time.Second` with Go's silent int64 wrap-around, in
 * nanoseconds. dflockd does no overflow check, so 9999999999 s wraps negative.
 */
export function secondsToDuration(n: bigint): bigint {
  return BigInt.asIntN(64, n * NS_PER_SECOND);
}

/** Whole seconds of a duration, truncated toward zero (`int(d.Seconds())` and `int(d / time.Second)`). */
export function durationSeconds(ns: bigint): number {
  return Number(ns / NS_PER_SECOND);
}

/** A duration in (fractional) milliseconds, for timers and lease deadlines. */
export function durationMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** Option seconds (possibly fractional) as a duration in nanoseconds. */
export function optionSecondsToDuration(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e9));
}
