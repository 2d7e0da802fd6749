import { firstValueFrom } from 'rxjs';
import { DflockdError, DistributedLock } from '../../lib/index.js';
import { FaultConnection, FaultProxy } from '../../lib/testing/index.js';
import { TestServer, eventually, startServer } from '../helpers/server.js';

// enqueue() on a free key whose grant arrives late: the grant is confirmed with a renewal
// before the lock counts as held, and enqueue() resolves 'acquired' only then.
let server: TestServer;
let proxy: FaultProxy;
let proxied: { servers: Array<[string, number]> };

beforeAll(async () => {
  server = await startServer();
  proxy = new FaultProxy({ target: { port: server.port } });
  proxied = { servers: [['127.0.0.1', await proxy.start()]] };
});
afterEach(() => proxy.heal());
afterAll(async () => {
  await proxy.stop();
  await server.stop();
});

/**
 * An enqueue() whose grant is held back by the proxy until more than half of its 1 s lease may
 * be gone. A real wait: what is tested is the age of a grant.
 */
async function lateGrant(key: string): Promise<{ lock: DistributedLock; pending: Promise<'acquired' | 'queued'>; connection: FaultConnection }> {
  const accepted = firstValueFrom(proxy.connection$);
  const lock = new DistributedLock(key, { ...proxied, leaseTtlS: 1 });
  const pending = lock.enqueue();
  const connection = await accepted;
  connection.pause({ direction: 'toClient' });
  await eventually(() => connection.bytesToServer > 0, 'the enqueue reached the server');
  await new Promise((resolve) => setTimeout(resolve, 600));
  return { lock, pending, connection };
}

test('a late grant: enqueue() resolves \'acquired\' only once confirmed, with the token set', async () => {
  const { lock, pending, connection } = await lateGrant('eq-late');
  expect(lock.token).toBeNull();
  connection.heal();
  const status = await pending.then((s) => ({ s, token: lock.token, held: lock.held }));
  expect(status).toEqual({ s: 'acquired', token: expect.stringMatching(/^[0-9a-f]{32}$/), held: true });
  expect(await lock.wait()).toBe(true);
  expect(await lock.release()).toBe(true);
});

test('a late grant whose confirmation fails: enqueue() rejects, and the lock is not held', async () => {
  const { lock, pending, connection } = await lateGrant('eq-late-fail');
  connection.heal();
  // The grant goes through; the confirming renewal the client sends on reading it does not.
  connection.pause({ direction: 'toServer' });
  await eventually(() => connection.bytesToClient > 0, 'the grant reached the client');
  expect(lock.token).toBeNull();
  connection.reset();
  await expect(pending).rejects.toBeInstanceOf(DflockdError);
  expect(lock.token).toBeNull();
  expect(lock.held).toBe(false);
});
