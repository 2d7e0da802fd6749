// The HTTP front-end runs on the server's lock core: only in the 2.1 mode, with
// the 2.1 rules (separate key spaces, the seconds cap, stale tokens refused)
// and one fence sequence shared with TCP grants.
import { fenceOf } from '../../../../lib/protocol/fence';
import { DflockdTestServer } from '../../../../lib/testing/server/test-server';
import { RawClient, grant, waitFor } from '../raw-client';
import { useHttpServer } from './http-fixture';

const fx = useHttpServer({ leaseSweepInterval: 0.02 });
afterEach(() => RawClient.closeAll());
let n = 0;
const fresh = (): string => `core${++n}`;

describe('compat', () => {
  test("httpPort with compat '1.10' is refused at construction, naming the option", () => {
    for (const httpPort of [0, 6389]) {
      expect(() => new DflockdTestServer({ port: 0, httpPort, compat: '1.10' })).toThrow(
        new RangeError("DflockdTestServer: option httpPort needs compat '2.1' (dflockd 1.10 has no HTTP API)"),
      );
    }
  });

  test("compat '1.10' without httpPort, and '2.1' with it, are accepted", () => {
    expect(new DflockdTestServer({ port: 0, compat: '1.10', httpHost: '127.0.0.1' }).options.httpPort).toBeUndefined();
    expect(new DflockdTestServer({ port: 0, httpPort: 0, compat: '2.1' }).compat).toBe('2.1');
    expect(fx.server.compat).toBe('2.1');
  });
});

describe('one fence sequence', () => {
  test('fences strictly increase across interleaved TCP and HTTP grants (direct, queued and two-phase)', async () => {
    const tcp = await RawClient.connect(fx.server.port);
    const s = await fx.session();
    const fences: bigint[] = [];
    const http = async (path: string, body: unknown): Promise<string> => {
      const r = await fx.call('POST', path, { session: s, body });
      expect(r.status).toBe(200);
      expect(['ok', 'acquired']).toContain(r.json.status);
      return r.json.token as string;
    };
    for (let i = 0; i < 5; i++) {
      fences.push(fenceOf(grant(await tcp.request('l', fresh(), '0 30')).token));
      fences.push(fenceOf(await http(`/v1/locks/${fresh()}`, { acquire_timeout_s: 0 })));
      fences.push(fenceOf(grant(await tcp.request('sl', fresh(), '0 3 30')).token));
      fences.push(fenceOf(await http(`/v1/semaphores/${fresh()}/enqueue`, { limit: 2 })));
    }
    // A grant handed from a TCP holder to an HTTP long poll draws the next fence too.
    const k = fresh();
    const held = grant(await tcp.request('l', k, '0 30'));
    fences.push(fenceOf(held.token));
    const poll = http(`/v1/locks/${k}`, { acquire_timeout_s: 10 });
    await waitFor(() => fx.server.blockedCount === 1, 2000, 'the HTTP long poll');
    expect(await tcp.request('r', k, held.token)).toBe('ok');
    fences.push(fenceOf(await poll));
    fences.push(fenceOf(grant(await tcp.request('l', fresh(), '0 30')).token));
    for (let i = 1; i < fences.length; i++) expect(fences[i]! > fences[i - 1]!).toBe(true);
    // One counter, +1 per grant: no other grant happened meanwhile.
    expect(fences[fences.length - 1]! - fences[0]!).toBe(BigInt(fences.length - 1));
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });
});

describe('2.1 rules over HTTP', () => {
  test('a lock and a semaphore of the same key are both granted (separate key spaces)', async () => {
    const s = await fx.session();
    const k = fresh();
    const lock = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 0, lease_ttl_s: 30 } });
    const sem = await fx.call('POST', `/v1/semaphores/${k}`, { session: s, body: { acquire_timeout_s: 0, limit: 1, lease_ttl_s: 30 } });
    expect(lock.json).toEqual({ status: 'ok', token: expect.any(String), lease_ttl_s: 30 });
    expect(sem.json).toEqual({ status: 'ok', token: expect.any(String), lease_ttl_s: 30 });
    expect(sem.json.token).not.toBe(lock.json.token);
    // A semaphore of limit 1 is still filed as a semaphore, and each kind is full on its own.
    const stats = fx.server.stats();
    expect(stats.locks.filter((l) => l.key === k)).toHaveLength(1);
    expect(stats.semaphores.filter((x) => x.key === k)).toEqual([{ key: k, limit: 1, holders: 1, waiters: 0 }]);
    expect((await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 0 } })).json).toEqual({ status: 'timeout' });
    expect((await fx.call('POST', `/v1/semaphores/${k}`, { session: s, body: { acquire_timeout_s: 0, limit: 1 } })).json).toEqual({ status: 'timeout' });
    // A release reaches only its own kind.
    expect((await fx.call('POST', `/v1/semaphores/${k}/release`, { session: s, body: { token: lock.json.token } })).status).toBe(404);
    expect((await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: sem.json.token } })).status).toBe(404);
    expect((await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: lock.json.token } })).status).toBe(204);
    expect((await fx.call('POST', `/v1/semaphores/${k}/release`, { session: s, body: { token: sem.json.token } })).status).toBe(204);
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });

  test('a TCP lock and an HTTP semaphore of the same key do not conflict either', async () => {
    const tcp = await RawClient.connect(fx.server.port);
    const s = await fx.session();
    const k = fresh();
    grant(await tcp.request('l', k, '0 30'));
    const sem = await fx.call('POST', `/v1/semaphores/${k}`, { session: s, body: { acquire_timeout_s: 0, limit: 3 } });
    expect(sem.json.status).toBe('ok');
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });

  test('seconds up to 9223372036 are accepted, one more is refused', async () => {
    const s = await fx.session();
    const k = fresh();
    const ok = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 9223372036, lease_ttl_s: 9223372036 } });
    expect(ok.json).toEqual({ status: 'ok', token: expect.any(String), lease_ttl_s: 9223372036 });
    const renew = await fx.call('POST', `/v1/locks/${k}/renew`, { session: s, body: { token: ok.json.token, lease_ttl_s: 9223372037 } });
    expect([renew.status, renew.json.error]).toEqual([400, 'bad_request']);
    expect(renew.json.detail).toMatch(/lease_ttl_s must be <= 9223372036/);
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });

  test('a two-phase wait whose queued grant expired meanwhile is refused with 409 lease_expired, not given the stale token', async () => {
    const tcp = await RawClient.connect(fx.server.port);
    const s = await fx.session();
    const k = fresh();
    const held = grant(await tcp.request('l', k, '0 30'));
    expect((await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: s, body: { lease_ttl_s: 1 } })).json).toEqual({ status: 'queued' });
    expect(await tcp.request('r', k, held.token)).toBe('ok');
    // The session's grant (lease 1 s) now runs out unseen and the sweep takes it.
    const lockOf = () => fx.server.stats().locks.find((l) => l.key === k);
    await waitFor(() => lockOf() !== undefined, 2000, 'the queued grant');
    await waitFor(() => lockOf() === undefined, 3000, 'the sweep of the uncollected grant');
    const r = await fx.call('POST', `/v1/locks/${k}/wait`, { session: s, body: { timeout_s: 0 } });
    expect([r.status, r.json.error]).toEqual([409, 'lease_expired']);
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });
});
