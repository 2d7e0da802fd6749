import { DflockdClient, DistributedLock, LeaseExpiredError } from '../../lib/index.js';
import { DflockdTestServer } from '../../lib/testing/index.js';
import { eventually } from '../helpers/eventually.js';

// dflockd v1.10.0's stale token (PROTOCOL.md §1.4.5): queued, granted while not waiting, the
// grant's lease expires and is swept — then `w` still answers `ok <stale token>`. The client
// confirms every two-phase grant with a renewal, so it never reports that lock as held.

/**
 * Enqueues behind a holder on `server`, lets the holder go, and waits until the grant made to the
 * enqueued place (1 s lease) has expired and been swept; then calls wait() and returns the lock.
 */
async function lateWait(server: DflockdTestServer, clients: DflockdClient[]): Promise<{ lock: DistributedLock; waited: Promise<boolean> }> {
  const servers: Array<[string, number]> = [['127.0.0.1', server.port]];
  const holderClient = new DflockdClient({ servers });
  const client = new DflockdClient({ servers });
  clients.push(holderClient, client);
  const holder = new DistributedLock('stale', { client: holderClient });
  expect(await holder.acquire()).toBe(true);
  const lock = new DistributedLock('stale', { client, leaseTtlS: 1 });
  expect(await lock.enqueue()).toBe('queued');
  expect(await holder.release()).toBe(true);
  const held = (): boolean => server.stats().locks.some((l) => l.key === 'stale' && l.owner_conn_id !== 0);
  await eventually(held, 'the grant to the enqueued place', { timeoutMs: 2000 });
  await eventually(() => !held(), 'the grant expired and swept', { timeoutMs: 3000 });
  const waited = lock.wait(5);
  waited.catch(() => undefined);
  return { lock, waited };
}

test("a late wait that gets v1.10.0's stale token rejects with LeaseExpiredError; nothing is reported held", async () => {
  const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '1.10', staleTokenOnWait: true, leaseSweepInterval: 0.1 });
  await server.start();
  const clients: DflockdClient[] = [];
  try {
    const run = await lateWait(server, clients);
    await expect(run.waited).rejects.toBeInstanceOf(LeaseExpiredError);
    expect(run.lock.token).toBeNull();
    expect(run.lock.held).toBe(false);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
});

test('the same sequence on a server without the bug (2.1): the wait is refused, never held', async () => {
  const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '2.1', leaseSweepInterval: 0.1 });
  await server.start();
  const clients: DflockdClient[] = [];
  try {
    const run = await lateWait(server, clients);
    await expect(run.waited).rejects.toThrow();
    expect(run.lock.held).toBe(false);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
});
