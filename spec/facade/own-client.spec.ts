import type { Subscription } from 'rxjs';
import { DistributedLock } from '../../lib/index.js';
import { FaultProxy } from '../../lib/testing/index.js';
import { eventually } from '../helpers/eventually.js';
import { TestServer, startServer } from '../helpers/server.js';

// A lock made without `client` has a client of its own. It keeps its connection while the
// instance is used again at once (a job loop), and closes it once the instance has stayed idle
// to the end of the event loop's turn, or when it is disposed. Connections are counted where the
// server would see them: at a proxy in front of it.
let server: TestServer;
let proxy: FaultProxy;
let options: { servers: Array<[string, number]>; acquireTimeoutS: number };
let accepted = 0;
let counting: Subscription;

beforeAll(async () => {
  server = await startServer();
  proxy = new FaultProxy({ target: { port: server.port } });
  options = { servers: [['127.0.0.1', await proxy.start()]], acquireTimeoutS: 5 };
  counting = proxy.connection$.subscribe(() => accepted++);
});
afterAll(async () => {
  counting.unsubscribe();
  await proxy.stop();
  await server.stop();
});

/** Connections the proxy accepted while `run` ran. */
async function acceptedDuring(run: () => Promise<void>): Promise<number> {
  const before = accepted;
  await run();
  return accepted - before;
}

const noneOpen = (): Promise<void> => eventually(() => proxy.activeConnections === 0, 'every connection through the proxy closed', { timeoutMs: 2000 });

test('a loop that acquires again as soon as release() resolves keeps one connection', async () => {
  await noneOpen();
  const lock = new DistributedLock('own-loop', options);
  const opened = await acceptedDuring(async () => {
    for (let i = 0; i < 20; i++) {
      expect(await lock.acquire()).toBe(true);
      expect(await lock.release()).toBe(true);
    }
  });
  expect(opened).toBe(1);
  await noneOpen();
});

test('an instance used once leaves nothing open once it is idle', async () => {
  await noneOpen();
  const lock = new DistributedLock('own-once', options);
  expect(await lock.acquire()).toBe(true);
  expect(proxy.activeConnections).toBe(1);
  expect(await lock.release()).toBe(true);
  await noneOpen();
  // Used again later: a new connection, and it goes the same way.
  expect(await acceptedDuring(async () => expect(await lock.acquire()).toBe(true))).toBe(1);
  expect(await lock.release()).toBe(true);
  await noneOpen();
});

test('a retry right after an acquire timeout keeps the connection', async () => {
  await noneOpen();
  const holder = new DistributedLock('own-retry', options);
  const waiter = new DistributedLock('own-retry', { ...options, acquireTimeoutS: 0 });
  expect(await holder.acquire()).toBe(true);
  const opened = await acceptedDuring(async () => {
    expect(await waiter.acquire()).toBe(false);
    expect(await waiter.acquire()).toBe(false);
  });
  expect(opened).toBe(1);
  expect(await holder.release()).toBe(true);
  expect(await waiter.acquire()).toBe(true);
  expect(await waiter.release()).toBe(true);
  await noneOpen();
});

test('disposal closes the own client before it resolves: the next acquire connects anew', async () => {
  await noneOpen();
  const lock = new DistributedLock('own-dispose', options);
  expect(await lock.acquire()).toBe(true);
  await lock[Symbol.asyncDispose]();
  expect(lock.held).toBe(false);
  expect(await acceptedDuring(async () => expect(await lock.acquire()).toBe(true))).toBe(1);
  await lock[Symbol.asyncDispose]();
  await noneOpen();
  expect((await server.stats()).locks.filter((l) => l.key === 'own-dispose' && l.owner_conn_id !== 0)).toEqual([]);
});
