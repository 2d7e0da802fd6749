// PROTOCOL.md §1.5 and the "Auth" transcript of §1.14.
import { useServer } from '../../helpers/server';

describe('auth with a token configured (§1.5)', () => {
  const fx = useServer({ authToken: 's3cret', readTimeout: 0.5 }, { concurrent: true });

  test.concurrent('the right token first gives ok; a second auth gives error and the connection stays open', async () => {
    const c = await fx.connect();
    expect(await c.request('auth', '_', 's3cret')).toBe('ok');
    expect(await c.request('auth', '_', 's3cret')).toBe('error');
    expect(await c.request('l', 'authed', '0')).toMatch(/^ok [0-9a-f]{32} 33$/);
  });

  test.concurrent('the key line is ignored and whitespace/CR around the token is trimmed', async () => {
    const c = await fx.connect();
    c.send('auth\n\n  s3cret \t\r\n');
    expect(await c.line()).toBe('ok');
  });

  test.each([
    ['a wrong token', 'auth\n_\nwrong\n'],
    ['another command first', 'l\nk2\n0\n'],
    ['stats first', 'stats\n\n\n'],
    ['a malformed first request', 'bogus\n_\n_\n'],
    ['the token in the key line', 'auth\ns3cret\n\n'],
    ['a token longer than 256 bytes', `auth\n_\n${'t'.repeat(300)}\n`],
  ])('%s: error_auth, then close about 100 ms later', async (_name, request) => {
    const c = await fx.connect();
    c.send(request);
    expect(await c.line()).toBe('error_auth');
    const started = Date.now();
    await c.eof();
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
  });

  test.concurrent('nothing sent within the read timeout: error_auth, then close', async () => {
    const c = await fx.connect();
    const started = Date.now();
    expect(await c.line(2000)).toBe('error_auth');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    await c.eof();
  });
});

describe('auth without a token configured', () => {
  const fx = useServer();

  test('auth gives error and the connection stays open', async () => {
    const c = await fx.connect();
    expect(await c.request('auth', '_', 'whatever')).toBe('error');
    expect(await c.request('auth', '', '')).toBe('error');
    expect(await c.request('stats', '', '')).toMatch(/^ok \{/);
  });
});
