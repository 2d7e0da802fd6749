// PROTOCOL.md Part 3: the HTTP API shares the lock table with TCP. An HTTP
// waiter queues behind a TCP holder and the other way round, in one FIFO.
import { RawClient, grant, waitFor } from '../raw-client';
import { useHttpServer } from './http-fixture';

const fx = useHttpServer();
afterEach(() => RawClient.closeAll());
let n = 0;
const fresh = (): string => `shared${++n}`;
const lockOf = (key: string) => fx.server.stats().locks.find((l) => l.key === key);

test('an HTTP long poll queued behind a TCP holder is granted when the TCP client releases', async () => {
  const tcp = await RawClient.connect(fx.server.port);
  const s = await fx.session();
  const k = fresh();
  const held = grant(await tcp.request('l', k, '0 30'));
  expect((await fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 0 } })).json).toEqual({ status: 'timeout' });
  const poll = fx.call('POST', `/v1/locks/${k}`, { session: s, body: { acquire_timeout_s: 10, lease_ttl_s: 12 } });
  await waitFor(() => lockOf(k)?.waiters === 1, 2000, 'the HTTP waiter');
  expect(await tcp.request('r', k, held.token)).toBe('ok');
  const r = await poll;
  expect(r.json).toEqual({ status: 'ok', token: expect.stringMatching(/^[0-9a-f]{32}$/), lease_ttl_s: 12 });
  // TCP can renew and release the HTTP grant by token: one table.
  expect(await tcp.request('n', k, `${r.json.token} 20`)).toBe('ok 20');
  expect(await tcp.request('r', k, r.json.token)).toBe('ok');
  await fx.call('DELETE', `/v1/sessions/${s}`);
});

test('a TCP waiter queued behind an HTTP holder is granted when the session releases, and when the session is deleted', async () => {
  const tcp = await RawClient.connect(fx.server.port);
  const s = await fx.session();
  const k = fresh();
  const held = await fx.call('POST', `/v1/locks/${k}`, { session: s, body: {} });
  expect(await tcp.request('l', k, '0')).toBe('timeout');
  tcp.send(`l\n${k}\n10\n`);
  await waitFor(() => fx.server.blockedCount === 1, 2000, 'the TCP waiter');
  expect((await fx.call('POST', `/v1/locks/${k}/release`, { session: s, body: { token: held.json.token } })).status).toBe(204);
  const tcpGrant = grant(await tcp.line());
  // Now the other way: the session queues (two-phase) behind TCP, then TCP waits behind the session.
  expect((await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: s })).json).toEqual({ status: 'queued' });
  const other = await RawClient.connect(fx.server.port);
  expect(await other.request('e', k, '')).toBe('queued');
  expect(await tcp.request('r', k, tcpGrant.token)).toBe('ok');
  expect(lockOf(k)!.owner_conn_id).not.toBe(1);
  other.send(`w\n${k}\n10\n`);
  await waitFor(() => fx.server.blockedCount === 1, 2000, 'the TCP wait');
  // Deleting the session releases its grant; the TCP wait collects it.
  expect((await fx.call('DELETE', `/v1/sessions/${s}`)).status).toBe(204);
  expect(grant(await other.line()).status).toBe('ok');
});

test('HTTP and TCP semaphores count against one limit; a limit mismatch is seen by both', async () => {
  const tcp = await RawClient.connect(fx.server.port);
  const s = await fx.session();
  const k = fresh();
  grant(await tcp.request('sl', k, '0 2'));
  const a = await fx.call('POST', `/v1/semaphores/${k}`, { session: s, body: { limit: 2 } });
  expect(a.json.status).toBe('ok');
  expect(await tcp.request('sl', k, '0 2')).toBe('timeout');
  expect((await fx.call('POST', `/v1/semaphores/${k}`, { session: s, body: { limit: 5 } })).json.error).toBe('limit_mismatch');
  expect(await tcp.request('sl', k, '0 5')).toBe('error_limit_mismatch');
  expect(fx.server.stats().semaphores.find((x) => x.key === k)).toEqual({ key: k, limit: 2, holders: 2, waiters: 0 });
  await fx.call('DELETE', `/v1/sessions/${s}`);
  expect(fx.server.stats().semaphores.find((x) => x.key === k)!.holders).toBe(1);
});

test('a session takes its owner id from the connection ids: stats show it, TCP disconnects never touch it', async () => {
  const s = await fx.session();
  const k = fresh();
  await fx.call('POST', `/v1/locks/${k}`, { session: s, body: {} });
  const owner = lockOf(k)!.owner_conn_id;
  // dflockd 2.x counts open sessions among the connections.
  const sessionsOnly = fx.server.connectionCount;
  expect(sessionsOnly).toBe(fx.server.httpSessionCount);
  const tcp = await RawClient.connect(fx.server.port);
  grant(await tcp.request('l', fresh(), '0'));
  await waitFor(() => fx.server.connectionCount === sessionsOnly + 1, 2000, 'the TCP connection');
  await tcp.destroy();
  await waitFor(() => fx.server.connectionCount === sessionsOnly, 2000, 'the TCP disconnect');
  expect(lockOf(k)!.owner_conn_id).toBe(owner);
  await fx.call('DELETE', `/v1/sessions/${s}`);
  expect(lockOf(k)).toBeUndefined();
});
