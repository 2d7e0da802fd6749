import { utf8ByteLength } from '../../lib/protocol/utf8.js';

// The core counts UTF-8 bytes without Buffer (it runs in browsers too): it must agree with Node's count.
describe('utf8ByteLength', () => {
  it('agrees with Buffer.byteLength on every kind of code unit, lone surrogates included', () => {
    const samples = ['', 'a', 'é', '€', '😀', 'a😀b', '\ud800', '\udc00x', '\ud83d', 'x\ud83d\ude00\ud800', 'ÿ'.repeat(300)];
    // A fixed pseudo-random walk over the UTF-16 range (bounded: 2,000 strings).
    let seed = 42;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 2_000; n++) samples.push(String.fromCharCode(...Array.from({ length: next() % 12 }, () => next() % 0x10000)));
    for (const s of samples) expect([s, utf8ByteLength(s)]).toEqual([s, Buffer.byteLength(s, 'utf8')]);
  });
});
