import { firstValueFrom, lastValueFrom } from 'rxjs';
import {
  AcquireTimeoutError,
  Connection,
  LineSocket,
  NotEnqueuedError,
  ServerError,
  connect,
  connectLineSocket,
  enqueue,
  lock,
  release,
  renew,
  semEnqueue,
  semLock,
  semRelease,
  semRenew,
  semWait,
  stats,
  wait,
  auth,
} from '../lib/index.js';
import { TestServer, startServer } from './helpers/server.js';

// The low-level API: one function per wire command, on a Connection or a bare LineSocket.
let server: TestServer;
const closers: Array<() => void> = [];
beforeAll(async () => {
  server = await startServer();
});
afterEach(() => {
  for (const close of closers.splice(0)) close();
});
afterAll(() => server.stop());

function socket(): Promise<LineSocket> {
  return new Promise((resolve, reject) => {
    const sub = connectLineSocket({ host: '127.0.0.1', port: server.port }).subscribe({ next: resolve, error: reject });
    closers.push(() => sub.unsubscribe());
  });
}

async function connection(): Promise<Connection> {
  const conn = await firstValueFrom(connect({ host: '127.0.0.1', port: server.port, connectTimeoutS: 5 }));
  closers.push(() => conn.close());
  return conn;
}

test('lock / renew / release on a bare LineSocket, replies parsed', async () => {
  const s = await socket();
  const grant = await lastValueFrom(lock(s, 'll-a', { acquireTimeoutS: 0, leaseTtlS: 7 }));
  expect(grant).toMatchObject({ kind: 'granted', leaseS: 7 });
  expect(grant.token).toMatch(/^[0-9a-f]{32}$/);
  expect(await lastValueFrom(renew(s, 'll-a', grant.token, 9))).toEqual({ kind: 'renewed', leaseS: 9 });
  expect(await lastValueFrom(release(s, 'll-a', grant.token))).toEqual({ kind: 'ok' });
  await expect(lastValueFrom(release(s, 'll-a', grant.token))).rejects.toBeInstanceOf(ServerError);
});

test('a held key: try-lock fails with AcquireTimeoutError; enqueue queues; wait gets the grant after release', async () => {
  const holder = await connection();
  const waiter = await connection();
  const grant = await lastValueFrom(lock(holder, 'll-b', { acquireTimeoutS: 0 }));
  await expect(lastValueFrom(lock(waiter, 'll-b', { acquireTimeoutS: 0 }))).rejects.toBeInstanceOf(AcquireTimeoutError);
  expect(await lastValueFrom(enqueue(waiter, 'll-b'))).toEqual({ kind: 'queued', status: 'queued' });
  const waited = lastValueFrom(wait(waiter, 'll-b', 5));
  await lastValueFrom(release(holder, 'll-b', grant.token));
  expect((await waited).kind).toBe('granted');
  await expect(lastValueFrom(wait(waiter, 'll-b', 0))).rejects.toBeInstanceOf(NotEnqueuedError);
});

test('semaphore commands and stats', async () => {
  const conn = await connection();
  const a = await lastValueFrom(semLock(conn, 'll-sem', 2, { acquireTimeoutS: 0 }));
  const b = await lastValueFrom(semEnqueue(conn, 'll-sem', 2, { leaseTtlS: 5 }));
  expect(b).toMatchObject({ kind: 'acquired', status: 'acquired', leaseS: 5 });
  const waited = await lastValueFrom(semWait(conn, 'll-sem', 0));
  expect(waited.kind).toBe('granted');
  expect(await lastValueFrom(semRenew(conn, 'll-sem', a.token, 4))).toEqual({ kind: 'renewed', leaseS: 4 });
  const snapshot = await lastValueFrom(stats(conn));
  expect(snapshot.semaphores).toEqual([{ key: 'll-sem', limit: 2, holders: 2, waiters: 0 }]);
  expect(snapshot.server).toBe(`127.0.0.1:${server.port}`);
  await lastValueFrom(semRelease(conn, 'll-sem', a.token));
  await lastValueFrom(semRelease(conn, 'll-sem', waited.token));
});

test('auth against a server without a token answers `error` and the connection stays usable', async () => {
  const s = await socket();
  await expect(lastValueFrom(auth(s, 'unused'))).rejects.toBeInstanceOf(ServerError);
  expect((await lastValueFrom(lock(s, 'll-c', { acquireTimeoutS: 0 }))).kind).toBe('granted');
});
