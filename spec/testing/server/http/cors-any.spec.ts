// PROTOCOL.md §3.4 with `httpCorsAllowedOrigins: '*'`: a literal `*`, no Vary.
import { useHttpServer } from './http-fixture';

const fx = useHttpServer({ httpCorsAllowedOrigins: '*' });

test.each(['https://any.example', 'null'])('origin %s: Allow-Origin * on preflights and responses, without Vary', async (origin) => {
  const pre = await fx.call('OPTIONS', '/v1/sessions', { headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
  const ordinary = await fx.call('POST', '/v1/sessions', { headers: { Origin: origin } });
  for (const r of [pre, ordinary]) {
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('vary')).toBeNull();
    expect(r.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
    expect(r.headers.get('access-control-max-age')).toBe('300');
  }
  expect([pre.status, ordinary.status]).toEqual([204, 200]);
  await fx.call('DELETE', `/v1/sessions/${ordinary.json.session_id}`);
});

test('a request without Origin gets no CORS headers', async () => {
  const r = await fx.call('GET', '/health');
  expect(r.headers.get('access-control-allow-origin')).toBeNull();
});
