// PROTOCOL.md §1.1–1.2: transport, framing, CR handling, line limit, encoding, EOF.
import { grant, statsOf } from '../../helpers/raw-client';
import { useServer } from '../../helpers/server';

describe('framing (§1.2)', () => {
  const fx = useServer({ readTimeout: 2 });

  test('CRLF works, and every trailing CR is stripped', async () => {
    const c = await fx.connect();
    c.send('l\r\nk-crlf\r\n0\r\n');
    const { token } = grant(await c.line());
    c.send(`r\r\r\nk-crlf\r\r\n${token}\r\r\r\n`);
    expect(await c.line()).toBe('ok');
  });

  test('a CR inside a key makes it invalid (connection stays open)', async () => {
    const c = await fx.connect();
    expect(await c.request('l', 'a\rb', '0')).toBe('error');
    expect(await c.request('stats', '_', '')).toMatch(/^ok \{/);
  });

  test.each([
    ['256-byte key', 'k'.repeat(256) + '\n'],
    ['255 bytes + CR', 'm'.repeat(255) + '\r\n'],
    ['128 × é (256 bytes)', 'é'.repeat(128) + '\n'],
  ])('%s is accepted', async (_name, keyLine) => {
    const c = await fx.connect();
    c.send(`l\n${keyLine}0\n`);
    expect(await c.line()).toMatch(/^ok [0-9a-f]{32} 33$/);
  });

  test.each([
    ['256 bytes + CR', `l\n${'n'.repeat(256)}\r\n0\n`],
    ['257-byte key', `l\n${'o'.repeat(257)}\n0\n`],
    ['300-byte command line', `${'l'.repeat(300)}\nk\n0\n`],
    ['129 × é (258 bytes)', `l\n${'é'.repeat(129)}\n0\n`],
  ])('%s gives error then close; the rest of the request is never read', async (_name, request) => {
    const c = await fx.connect();
    c.send(request);
    expect(await c.line()).toBe('error');
    await c.eof();
  });

  test('an over-long line is drained up to its LF before the error', async () => {
    const c = await fx.connect();
    c.send('x'.repeat(300));
    await c.silentFor(100);
    c.send('yyy\n');
    expect(await c.line()).toBe('error');
    await c.eof();
  });

  test('a stray blank line shifts the framing (transcript of §1.2)', async () => {
    const c = await fx.connect();
    c.send('\nl\nk9\n0\n');
    expect(await c.line()).toBe('error'); // cmd="", key="l", arg="k9"
    c.send('\n\n');
    expect(await c.line()).toBe('error'); // cmd="0", key="", arg=""
    expect(await c.request('stats', '', '')).toMatch(/^ok /);
  });

  test('keys are bytes: no UTF-8 validation; stats shows U+FFFD', async () => {
    const c = await fx.connect();
    c.send(Buffer.concat([Buffer.from('l\n'), Buffer.from([0xff, 0xfe, 0x00, 0x01]), Buffer.from('\n0\n')]));
    const { token } = grant(await c.line());
    const raw = await c.request('stats', '', '');
    expect(raw).toContain('"key":"\\ufffd\\ufffd\\u0000\\u0001"');
    expect(statsOf(raw).locks.some((l) => l.key === '\ufffd\ufffd\u0000\u0001')).toBe(true);
    c.send(Buffer.concat([Buffer.from('r\n'), Buffer.from([0xff, 0xfe, 0x00, 0x01]), Buffer.from(`\n${token}\n`)]));
    expect(await c.line()).toBe('ok');
  });

  test('pipelined requests are answered in order', async () => {
    const c = await fx.connect();
    c.send('l\npa\n0\nl\npb\n0\nstats\n\n\n');
    expect(await c.line()).toMatch(/^ok [0-9a-f]{32} 33$/);
    expect(await c.line()).toMatch(/^ok [0-9a-f]{32} 33$/);
    const stats = statsOf(await c.line());
    expect(stats.locks.map((l) => l.key).sort()).toEqual(['pa', 'pb']);
  });

  test('EOF mid-request closes silently', async () => {
    const c = await fx.connect();
    c.send('l\nhalf');
    c.end();
    await c.eof();
    expect(c.received).toEqual([]);
  });

  test('complete requests before a half-close are still answered, then EOF', async () => {
    const c = await fx.connect();
    c.send('stats\n\n\nl\nhc\n0\n');
    c.end();
    expect(await c.line()).toMatch(/^ok \{/);
    expect(await c.line()).toMatch(/^ok [0-9a-f]{32} 33$/);
    await c.eof();
  });

  test('responses never contain CR', async () => {
    const c = await fx.connect();
    c.send('l\r\ncr\r\n0\r\nstats\r\n\r\n\r\n');
    await c.line();
    await c.line();
    expect(c.received.join('\n')).not.toContain('\r');
  });
});
