// PROTOCOL.md §3.4: bearer auth (401 after 100 ms; /health, /ready and the
// OpenAPI document open) and CORS for a list of origins, preflights before auth.
import { call, useHttpServer } from './http-fixture';

const SECRET = 's3cret-token';
const fx = useHttpServer({ authToken: SECRET, httpCorsAllowedOrigins: ['https://app.example', 'http://localhost:4200'] });
const auth = { Authorization: `Bearer ${SECRET}` };

describe('auth', () => {
  test.each([
    ['no header', {}],
    ['a wrong token', { Authorization: 'Bearer nope' }],
    ['a token that is a prefix', { Authorization: `Bearer ${SECRET.slice(0, -1)}` }],
    ['another scheme', { Authorization: `Basic ${SECRET}` }],
    ['no space after the scheme', { Authorization: `Bearer${SECRET}` }],
  ])('%s → 401 unauthorized after ~100 ms', async (_what, headers) => {
    for (const [method, path] of [['GET', '/v1/stats'], ['GET', '/metrics'], ['POST', '/v1/sessions'], ['POST', '/v1/locks/k']] as const) {
      const started = performance.now();
      const r = await fx.call(method, path, { headers });
      expect(performance.now() - started).toBeGreaterThanOrEqual(95);
      expect([r.status, r.json.error]).toEqual([401, 'unauthorized']);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  test('the scheme is case-insensitive', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect((await fx.call('GET', '/v1/stats', { headers: { Authorization: `${scheme} ${SECRET}` } })).status).toBe(200);
    }
  });

  test('/health, /ready and /v1/openapi.json need no token', async () => {
    for (const path of ['/health', '/ready', '/v1/openapi.json']) expect((await fx.call('GET', path)).status).toBe(200);
  });

  test('with the token, sessions and lock calls work; the session id alone is not enough', async () => {
    const created = await fx.call('POST', '/v1/sessions', { headers: auth });
    const s = created.json.session_id as string;
    const r = await fx.call('POST', '/v1/locks/authed', { headers: auth, session: s, body: {} });
    expect(r.json.status).toBe('ok');
    expect((await fx.call('POST', `/v1/sessions/${s}/ping`)).status).toBe(401);
    expect((await fx.call('DELETE', `/v1/sessions/${s}`)).status).toBe(401);
    expect((await fx.call('POST', `/v1/sessions/${s}/ping`, { headers: auth })).status).toBe(204);
    expect((await fx.call('DELETE', `/v1/sessions/${s}`, { headers: auth })).status).toBe(204);
  });

  test('unknown paths are 404 and wrong methods 405 without a token', async () => {
    expect((await fx.call('GET', '/nope')).status).toBe(404);
    expect((await fx.call('DELETE', '/v1/stats')).status).toBe(405);
  });
});

describe('CORS for listed origins', () => {
  const preflight = (origin: string | undefined, path = '/v1/locks/k') =>
    call(fx.url, 'OPTIONS', path, {
      headers: { ...(origin ? { Origin: origin } : {}), 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, x-dflockd-session' },
    });

  const CORS = {
    'access-control-allow-origin': 'https://app.example',
    vary: 'Origin',
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': 'Authorization, Content-Type, X-Dflockd-Session',
    'access-control-max-age': '300',
  };
  const corsOf = (h: Headers) => Object.fromEntries(Object.keys(CORS).map((name) => [name, h.get(name)]));
  const none = Object.fromEntries(Object.keys(CORS).map((name) => [name, null]));

  test('a preflight from a listed origin: 204 with the CORS headers, before any auth check', async () => {
    // No Authorization header, on a server with an auth token: answered 204, not 401 — the
    // preflight is answered before the auth check (which refuses the same path without a token).
    const r = await preflight('https://app.example');
    expect(r.status).toBe(204);
    expect((await call(fx.url, 'POST', '/v1/locks/k', { headers: { Origin: 'https://app.example' } })).status).toBe(401);
    expect(corsOf(r.headers)).toEqual(CORS);
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    expect(r.headers.get('access-control-expose-headers')).toBeNull();
  });

  test('a preflight from an origin not listed (or none): 204 without CORS headers', async () => {
    for (const origin of ['https://evil.example', 'https://APP.example', undefined]) {
      const r = await preflight(origin);
      expect(r.status).toBe(204);
      expect(corsOf(r.headers)).toEqual(none);
    }
  });

  test('ordinary responses carry the headers for a listed origin, errors and 401s included', async () => {
    const other = { ...CORS, 'access-control-allow-origin': 'http://localhost:4200' };
    const ok = await fx.call('GET', '/v1/stats', { headers: { ...auth, Origin: 'http://localhost:4200' } });
    expect([ok.status, corsOf(ok.headers)]).toEqual([200, other]);
    const denied = await fx.call('GET', '/v1/stats', { headers: { Origin: 'https://app.example' } });
    expect([denied.status, corsOf(denied.headers)]).toEqual([401, CORS]);
    const missing = await fx.call('GET', '/nope', { headers: { Origin: 'https://app.example' } });
    expect([missing.status, corsOf(missing.headers)]).toEqual([404, CORS]);
    const health = await fx.call('GET', '/health', { headers: { Origin: 'https://evil.example' } });
    expect([health.status, corsOf(health.headers)]).toEqual([200, none]);
  });

  test('OPTIONS without Access-Control-Request-Method is not a preflight', async () => {
    const r = await fx.call('OPTIONS', '/v1/stats', { headers: { Origin: 'https://app.example' } });
    expect([r.status, r.json.error]).toEqual([405, 'method_not_allowed']);
  });
});
