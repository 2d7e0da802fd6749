/**
 * UTF-8 without Node's `Buffer`, so the core runs in browsers, Deno, Bun and edge runtimes too.
 *
 * @module
 */

/** One encoder for the package: `TextEncoder` is stateless. */
const encoder = new TextEncoder();

/** The UTF-8 bytes of `text` (a lone surrogate becomes U+FFFD, 3 bytes, as `Buffer.from` does). */
export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * How many bytes `text` takes in UTF-8, counted in place (no encoding, no allocation). Agrees
 * with `Buffer.byteLength(text, 'utf8')`, lone surrogates counted as U+FFFD (3 bytes).
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: one code point beyond the BMP, 4 bytes.
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
