// PROTOCOL.md §3.1, §3.3, §3.4: every endpoint of the HTTP API, its statuses and
// error codes, and the strict body rules, over real HTTP on 127.0.0.1.
import { waitFor } from '../raw-client';
import { useHttpServer } from './http-fixture';

const fx = useHttpServer({ defaultLeaseTtl: 33, maxLocks: 50, maxWaiters: 1 });
const TOKEN = /^[0-9a-f]{32}$/;
let key = 0;
const fresh = (prefix = 'k'): string => `${prefix}${++key}`;

describe('service endpoints', () => {
  test('GET /health and /ready answer {"status":"ok"}', async () => {
    for (const path of ['/health', '/ready']) {
      const r = await fx.call('GET', path);
      expect([r.status, r.json]).toEqual([200, { status: 'ok' }]);
      expect(r.headers.get('content-type')).toBe('application/json');
    }
  });

  test('GET /v1/openapi.json is an OpenAPI 3.1 document naming every path served', async () => {
    const r = await fx.call('GET', '/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.1.0');
    const paths = Object.keys(r.json.paths);
    for (const p of ['/health', '/ready', '/metrics', '/v1/stats', '/v1/sessions', '/v1/sessions/{id}', '/v1/sessions/{id}/ping']) expect(paths).toContain(p);
    for (const kind of ['locks', 'semaphores']) {
      for (const tail of ['', '/release', '/renew', '/enqueue', '/wait']) expect(paths).toContain(`/v1/${kind}/{key}${tail}`);
    }
    // Every operation has a unique operationId and 3-digit responses; every {param} is declared.
    const ids = new Set<string>();
    const resolve = (p: { $ref?: string }) => (p.$ref ? r.json.components.parameters[p.$ref.split('/').pop()!] : p);
    for (const [p, item] of Object.entries<Record<string, { operationId: string; responses: object; parameters?: { $ref?: string }[] }>>(r.json.paths)) {
      for (const op of Object.values(item)) {
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        for (const code of Object.keys(op.responses)) expect(code).toMatch(/^[1-5]\d\d$/);
        const declared = (op.parameters ?? []).map(resolve).filter((x: { in: string }) => x.in === 'path').map((x: { name: string }) => x.name);
        expect(declared.sort()).toEqual([...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      }
    }
    expect(ids.size).toBe(18);
    // Every $ref resolves inside the document.
    const refs = r.text.match(/"\$ref":"#\/components\/[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const [, , section, name] = JSON.parse(ref.slice(7)).split('/');
      expect(r.json.components[section][name]).toBeDefined();
    }
  });

  test('GET /metrics is Prometheus text with the live gauges', async () => {
    const s = await fx.session();
    const k = fresh();
    await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 0 } });
    const r = await fx.call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toMatch(/^# HELP dflockd_locks_held /m);
    expect(r.text).toMatch(/^# TYPE dflockd_locks_held gauge$/m);
    expect(Number(/^dflockd_locks_held (\d+)$/m.exec(r.text)![1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^dflockd_http_sessions (\d+)$/m.exec(r.text)![1])).toBe(fx.server.httpSessionCount);
    // As stats counts them: the open session is one (no TCP client here).
    expect(Number(/^dflockd_connections (\d+)$/m.exec(r.text)![1])).toBe(fx.server.connectionCount);
    expect(fx.server.connectionCount).toBe(fx.server.httpSessionCount);
    expect(r.text).toMatch(/^dflockd_ready 1$/m);
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });

  test('GET /v1/stats is the TCP stats document, same keys', async () => {
    const s = await fx.session();
    const k = fresh('stats');
    const held = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 0, lease_ttl_s: 9 } });
    const r = await fx.call('GET', '/v1/stats');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['connections', 'locks', 'semaphores', 'idle_locks', 'idle_semaphores']);
    // dflockd 2.x counts HTTP sessions among the connections; this file opens no TCP client.
    expect(r.json.connections).toBeGreaterThanOrEqual(1);
    expect(r.json.connections).toBe(fx.server.httpSessionCount);
    const lock = r.json.locks.find((l: { key: string }) => l.key === k);
    expect(Object.keys(lock)).toEqual(['key', 'owner_conn_id', 'lease_expires_in_s', 'waiters']);
    expect(lock.owner_conn_id).toBeGreaterThan(0);
    expect(lock.lease_expires_in_s).toBeGreaterThan(8);
    const local = fx.server.stats();
    expect(r.json.locks.map((l: { key: string }) => l.key)).toEqual(local.locks.map((l) => l.key));
    expect(r.json.idle_locks.map((l: { key: string }) => l.key)).toEqual(local.idle_locks.map((l) => l.key));
    await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: held.json.token } });
  });

  test('POST /v1/sessions answers a 32-hex id and the idle timeout, ignoring its body', async () => {
    const r = await fx.call('POST', '/v1/sessions', { body: { whatever: true } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ session_id: expect.stringMatching(TOKEN), idle_timeout_s: 20 });
    expect((await fx.call('POST', `/v1/sessions/${r.json.session_id}/ping`)).status).toBe(204);
    expect((await fx.call('DELETE', `/v1/sessions/${r.json.session_id}`)).status).toBe(204);
    const again = await fx.call('DELETE', `/v1/sessions/${r.json.session_id}`);
    expect([again.status, again.json.error]).toEqual([410, 'session_gone']);
    expect((await fx.call('POST', `/v1/sessions/${r.json.session_id}/ping`)).json).toEqual({ error: 'session_gone', detail: expect.any(String) });
  });
});

describe('routing', () => {
  test.each([
    ['GET', '/', 404, 'not_found'],
    ['GET', '/v1', 404, 'not_found'],
    ['GET', '/v2/stats', 404, 'not_found'],
    ['POST', '/v1/locks/k/steal', 404, 'not_found'],
    ['POST', '/v1/locks/a/b/release', 404, 'not_found'],
    ['POST', '/v1/locks/', 404, 'not_found'],
    ['POST', '/v1/widgets/k', 404, 'not_found'],
    ['POST', '/v1/sessions/abc/pong', 404, 'not_found'],
    ['POST', '/health', 405, 'method_not_allowed'],
    ['DELETE', '/v1/stats', 405, 'method_not_allowed'],
    ['GET', '/v1/sessions', 405, 'method_not_allowed'],
    ['GET', '/v1/locks/k', 405, 'method_not_allowed'],
    ['PUT', '/v1/semaphores/k/renew', 405, 'method_not_allowed'],
    ['POST', '/v1/sessions/abc', 405, 'method_not_allowed'],
    ['GET', '/v1/sessions/abc/ping', 405, 'method_not_allowed'],
    ['OPTIONS', '/v1/stats', 405, 'method_not_allowed'],
  ])('%s %s → %i %s', async (method, path, status, code) => {
    const r = await fx.call(method, path);
    expect(r.status).toBe(status);
    expect(r.json.error).toBe(code);
    if (status === 405) expect(r.headers.get('allow')).toBeTruthy();
  });

  test('HEAD on a GET path answers its headers without a body', async () => {
    const r = await fx.call('HEAD', '/health');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });

  test('a query string is ignored', async () => {
    expect((await fx.call('GET', '/health?x=1')).status).toBe(200);
  });
});

describe('locks', () => {
  let s: string;
  let other: string;
  beforeAll(async () => {
    s = await fx.session();
    other = await fx.session();
  });

  test('acquire, renew, release: status codes and bodies', async () => {
    const k = fresh();
    const a = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 0, lease_ttl_s: 7 } });
    expect([a.status, a.json]).toEqual([200, { status: 'ok', token: expect.stringMatching(TOKEN), lease_ttl_s: 7 }]);
    const busy = await fx.call('POST', `/v1/locks/${k}`, { session: other, body: { acquire_timeout_s: 0 } });
    expect([busy.status, busy.json]).toEqual([200, { status: 'timeout' }]);
    // Renew goes by token: another session may renew; without a lease, the server default.
    const renewed = await fx.call('POST', `/v1/locks/${k}/renew`, { session: other, body: { token: a.json.token } });
    expect([renewed.status, renewed.json]).toEqual([200, { remaining_s: 33 }]);
    const explicit = await fx.call('POST', `/v1/locks/${k}/renew`, { session: s, body: { token: a.json.token, lease_ttl_s: 60 } });
    expect(explicit.json).toEqual({ remaining_s: 60 });
    const released = await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: a.json.token } });
    expect([released.status, released.text]).toEqual([204, '']);
    const twice = await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: a.json.token } });
    expect([twice.status, twice.json.error]).toEqual([404, 'not_held']);
    const stale = await fx.call('POST', `/v1/locks/${k}/renew`, { session: s, body: { token: a.json.token } });
    expect([stale.status, stale.json.error]).toEqual([404, 'not_held']);
  });

  test('a missing acquire_timeout_s counts as 0 (try once); an empty body too', async () => {
    const k = fresh();
    const a = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: {} });
    expect(a.json).toEqual({ status: 'ok', token: expect.stringMatching(TOKEN), lease_ttl_s: 33 });
    const started = Date.now();
    const b = await fx.call('POST', `/v1/locks/${k}`, { session: other });
    expect(b.json).toEqual({ status: 'timeout' });
    expect(Date.now() - started).toBeLessThan(500);
  });

  test('a long poll is granted when the holder releases, and times out otherwise', async () => {
    const k = fresh();
    const a = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 0 } });
    const waiting = fx.call('POST', `/v1/locks/${k}`, { session: other, body: { acquire_timeout_s: 10, lease_ttl_s: 5 } });
    await waitForWaiters(k, 1);
    await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: a.json.token } });
    const b = await waiting;
    expect(b.json).toEqual({ status: 'ok', token: expect.stringMatching(TOKEN), lease_ttl_s: 5 });
    const started = Date.now();
    const timedOut = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 1 } });
    expect(timedOut.json).toEqual({ status: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await fx.call('POST', `/v1/locks/${k}/release`, { session: other, body: { token: b.json.token } });
  });

  test('two-phase: enqueue acquired / queued, wait, already_enqueued, not_enqueued', async () => {
    const k = fresh();
    const e1 = await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: s });
    expect(e1.json).toEqual({ status: 'acquired', token: expect.stringMatching(TOKEN), lease_ttl_s: 33 });
    const again = await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: s, body: { lease_ttl_s: 5 } });
    expect([again.status, again.json.error]).toEqual([409, 'already_enqueued']);
    expect(again.json.detail).toEqual(expect.any(String));
    const e2 = await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: other, body: { lease_ttl_s: 8 } });
    expect(e2.json).toEqual({ status: 'queued' });
    const w1 = await fx.call('POST', `/v1/locks/${k}/wait`, { session: s, body: { timeout_s: 0 } });
    expect(w1.json).toEqual({ status: 'ok', token: e1.json.token, lease_ttl_s: 33 });
    const waiting = fx.call('POST', `/v1/locks/${k}/wait`, { session: other, body: { timeout_s: 10 } });
    await waitForBlocked(1);
    await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: e1.json.token } });
    const w2 = await waiting;
    expect(w2.json).toEqual({ status: 'ok', token: expect.stringMatching(TOKEN), lease_ttl_s: 8 });
    const none = await fx.call('POST', `/v1/locks/${k}/wait`, { session: other, body: { timeout_s: 0 } });
    expect([none.status, none.json.error]).toEqual([409, 'not_enqueued']);
    await fx.call('POST', `/v1/locks/${k}/release`, { session: other, body: { token: w2.json.token } });
  });

  test('a wait timeout gives the place up', async () => {
    const k = fresh();
    const a = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: {} });
    expect((await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: other })).json).toEqual({ status: 'queued' });
    expect((await fx.call('POST', `/v1/locks/${k}/wait`, { session: other, body: { timeout_s: 0 } })).json).toEqual({ status: 'timeout' });
    expect((await fx.call('POST', `/v1/locks/${k}/wait`, { session: other, body: { timeout_s: 0 } })).json.error).toBe('not_enqueued');
    await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: a.json.token } });
  });

  test('max_waiters is 503', async () => {
    const k = fresh();
    const a = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: {} });
    expect((await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: other })).json.status).toBe('queued');
    const third = await fx.session();
    const r = await fx.call('POST', `/v1/locks/${k}`, { session: third, body: { acquire_timeout_s: 0 } });
    expect([r.status, r.json.error]).toEqual([503, 'max_waiters']);
    await fx.call('DELETE', `/v1/sessions/${third}`);
    await fx.call('POST', `/v1/locks/${k}/wait`, { session: other, body: { timeout_s: 0 } });
    await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: a.json.token } });
  });
});

describe('semaphores', () => {
  test('limit slots, limit_mismatch with a detail, release and renew by token', async () => {
    const [s1, s2, s3] = await Promise.all([fx.session(), fx.session(), fx.session()]);
    const k = fresh('sem');
    const a = await fx.call('POST', `/v1/semaphores/${k}`, { session: s1, body: { acquire_timeout_s: 0, limit: 2, lease_ttl_s: 6 } });
    const b = await fx.call('POST', `/v1/semaphores/${k}`, { session: s2, body: { acquire_timeout_s: 0, limit: 2 } });
    expect(a.json).toEqual({ status: 'ok', token: expect.stringMatching(TOKEN), lease_ttl_s: 6 });
    expect(b.json.status).toBe('ok');
    expect((await fx.call('POST', `/v1/semaphores/${k}`, { session: s3, body: { acquire_timeout_s: 0, limit: 2 } })).json).toEqual({ status: 'timeout' });
    const mismatch = await fx.call('POST', `/v1/semaphores/${k}`, { session: s3, body: { acquire_timeout_s: 0, limit: 3 } });
    expect([mismatch.status, mismatch.json]).toEqual([409, { error: 'limit_mismatch', detail: 'limit mismatch for semaphore key' }]);
    const enq = await fx.call('POST', `/v1/semaphores/${k}/enqueue`, { session: s3, body: { limit: 2 } });
    expect(enq.json).toEqual({ status: 'queued' });
    expect((await fx.call('POST', `/v1/semaphores/${k}/renew`, { session: s3, body: { token: a.json.token, lease_ttl_s: 4 } })).json).toEqual({ remaining_s: 4 });
    expect((await fx.call('POST', `/v1/semaphores/${k}/release`, { session: s3, body: { token: a.json.token } })).status).toBe(204);
    const w = await fx.call('POST', `/v1/semaphores/${k}/wait`, { session: s3, body: { timeout_s: 0 } });
    expect(w.json).toEqual({ status: 'ok', token: expect.stringMatching(TOKEN), lease_ttl_s: 33 });
    expect(fx.server.stats().semaphores.find((x) => x.key === k)).toEqual({ key: k, limit: 2, holders: 2, waiters: 0 });
    for (const id of [s1, s2, s3]) await fx.call('DELETE', `/v1/sessions/${id}`);
    expect(fx.server.stats().semaphores.find((x) => x.key === k)).toBeUndefined();
  });
});

describe('strict bodies and arguments → 400 bad_request', () => {
  let s: string;
  beforeAll(async () => {
    s = await fx.session();
  });
  const lock = '/v1/locks/strict';
  test.each<[string, string, unknown]>([
    ['an unknown field', lock, { acquire_timeout_s: 0, ttl: 5 }],
    ['limit on a lock', lock, { acquire_timeout_s: 0, limit: 2 }],
    ['a second JSON value', lock, '{"acquire_timeout_s":0} {}'],
    ['trailing garbage', lock, '{"acquire_timeout_s":0}x'],
    ['invalid JSON', lock, '{"acquire_timeout_s":'],
    ['an array', lock, '[]'],
    ['a number', lock, '5'],
    ['null', lock, 'null'],
    ['a string timeout', lock, { acquire_timeout_s: '1' }],
    ['a fractional timeout', lock, { acquire_timeout_s: 1.5 }],
    ['a negative timeout', lock, { acquire_timeout_s: -1 }],
    ['a timeout above 9223372036', lock, { acquire_timeout_s: 9223372037 }],
    ['lease 0', lock, { acquire_timeout_s: 0, lease_ttl_s: 0 }],
    ['a lease above 9223372036', lock, { lease_ttl_s: 9999999999 }],
    ['a boolean lease', lock, { lease_ttl_s: true }],
    ['a semaphore without limit', '/v1/semaphores/strict', { acquire_timeout_s: 0 }],
    ['limit 0', '/v1/semaphores/strict', { acquire_timeout_s: 0, limit: 0 }],
    ['a fractional limit', '/v1/semaphores/strict/enqueue', { limit: 1.5 }],
    ['a release without token', `${lock}/release`, {}],
    ['an uppercase token', `${lock}/release`, { token: 'A'.repeat(32) }],
    ['a 31-character token', `${lock}/renew`, { token: 'a'.repeat(31) }],
    ['timeout_s on enqueue', `${lock}/enqueue`, { timeout_s: 1 }],
    ['acquire_timeout_s on wait', `${lock}/wait`, { acquire_timeout_s: 1 }],
    ['a key with a space', '/v1/locks/a%20b', {}],
    ['a key with a tab', '/v1/locks/a%09b', {}],
    ['a key with a CR', '/v1/locks/a%0Db', {}],
    ['a key of 257 bytes', `/v1/locks/${'k'.repeat(257)}`, {}],
    ['a key of 129 two-byte characters', `/v1/locks/${encodeURIComponent('é'.repeat(129))}`, {}],
    ['a malformed escape in the key', '/v1/locks/a%zz', {}],
    ['invalid UTF-8 in the body', lock, Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')],
  ])('%s', async (_what, path, body) => {
    const init = typeof body === 'string' && /[\x80-\xff]/.test(body) ? Buffer.from(body, 'latin1') : body;
    const r = init instanceof Buffer
      ? await fetch(fx.url + path, { method: 'POST', headers: { 'X-Dflockd-Session': s }, body: init }).then(async (x) => ({ status: x.status, json: await x.json() }))
      : await fx.call('POST', path, { session: s, body });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'bad_request', detail: expect.any(String) });
  });

  test('a body over 1 MiB is refused; exactly at the cap it is read', async () => {
    const big = `{"acquire_timeout_s":0${' '.repeat(1024 * 1024)}}`;
    const r = await fx.call('POST', lock, { session: s, body: big });
    expect([r.status, r.json.error]).toEqual([400, 'bad_request']);
    const atCap = `{"acquire_timeout_s":0${' '.repeat(1024 * 1024 - 23)}}`;
    expect(Buffer.byteLength(atCap)).toBe(1024 * 1024);
    const ok = await fx.call('POST', '/v1/locks/at-cap', { session: s, body: atCap });
    expect(ok.json.status).toBe('ok');
  });

  test('keys of 256 bytes, multi-byte and percent-encoded keys address the same key as TCP', async () => {
    const long = 'k'.repeat(256);
    expect((await fx.call('POST', `/v1/locks/${long}`, { session: s, body: {} })).json.status).toBe('ok');
    const slash = await fx.call('POST', `/v1/locks/${encodeURIComponent('a/b é')}`.replace('%20', '_'), { session: s, body: {} });
    expect(slash.json.status).toBe('ok');
    const keys = fx.server.stats().locks.map((l) => l.key);
    expect(keys).toEqual(expect.arrayContaining([long, 'a/b_é']));
  });

  test('the session header: missing → 400, unknown → 410', async () => {
    const missing = await fx.call('POST', lock, { body: {} });
    expect([missing.status, missing.json.error]).toEqual([400, 'bad_request']);
    const unknown = await fx.call('POST', lock, { session: 'f'.repeat(32), body: {} });
    expect([unknown.status, unknown.json.error]).toEqual([410, 'session_gone']);
  });
});

async function waitForWaiters(k: string, n: number): Promise<void> {
  await waitFor(() => (fx.server.stats().locks.find((l) => l.key === k)?.waiters ?? 0) === n, 2000, `${n} waiter(s) on ${k}`);
}

async function waitForBlocked(n: number): Promise<void> {
  await waitFor(() => fx.server.blockedCount === n, 2000, `${n} blocked`);
}

// Last in the file: it fills the table up to maxLocks (50), which the GC would take a minute to empty.
describe('limits', () => {
  test('a new key beyond maxLocks is 503 max_locks; existing keys still work', async () => {
    const s = await fx.session();
    let last: { status: number; json: any } | undefined;
    for (let i = 0; i < 60 && last?.status !== 503; i++) {
      last = await fx.call('POST', `/v1/locks/${fresh('full')}/enqueue`, { session: s });
    }
    expect([last!.status, last!.json]).toEqual([503, { error: 'max_locks', detail: expect.any(String) }]);
    const sem = await fx.call('POST', `/v1/semaphores/${fresh('full')}`, { session: s, body: { limit: 2 } });
    expect(sem.json.error).toBe('max_locks');
    expect((await fx.call('POST', `/v1/locks/${`full${key - 2}`}/wait`, { session: s, body: { timeout_s: 0 } })).json.status).toBe('ok');
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });
});
