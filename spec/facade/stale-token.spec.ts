import { DflockdClient, DistributedLock, LeaseExpiredError } from '../../lib/index.js';
import { DflockdTestServer } from '../../lib/testing/index.js';
import { eventually } from '../helpers/eventually.js';

// dflockd v1.10.0's stale token (PROTOCOL.md §1.4.5): queued, granted while not waiting, the
// grant's lease expires and is swept — then `w` still answers `ok <stale token>`. The client
// confirms every two-phase grant with a renewal, so it never reports that lock as held.

let server: DflockdTestServer;
let servers: Array<[string, number]>;
beforeAll(async () => {
  server = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '1.10', staleTokenOnWait: true, leaseSweepInterval: 0.1 });
  servers = [['127.0.0.1', await server.start()]];
});
afterAll(() => server.stop());

test("a late wait that gets v1.10.0's stale token rejects with LeaseExpiredError; nothing is reported held", async () => {
  const holderClient = new DflockdClient({ servers });
  const client = new DflockdClient({ servers });
  try {
    const holder = new DistributedLock('stale', { client: holderClient });
    expect(await holder.acquire()).toBe(true);
    const lock = new DistributedLock('stale', { client, leaseTtlS: 1 });
    expect(await lock.enqueue()).toBe('queued');
    // The holder leaves: the grant goes to our place while we are not waiting; its 1 s lease
    // then runs out and is swept.
    expect(await holder.release()).toBe(true);
    await eventually(() => server.stats().locks.some((l) => l.key === 'stale' && l.owner_conn_id !== 0), 'the grant to the enqueued place', { timeoutMs: 2000 });
    await eventually(() => !server.stats().locks.some((l) => l.key === 'stale' && l.owner_conn_id !== 0), 'the grant expired and swept', { timeoutMs: 3000 });
    await expect(lock.wait(5)).rejects.toBeInstanceOf(LeaseExpiredError);
    expect(lock.token).toBeNull();
    expect(lock.held).toBe(false);
  } finally {
    await holderClient.close();
    await client.close();
  }
});

test('the same sequence on a server without the bug (2.1): the wait is answered error_lease_expired or the like, never held', async () => {
  const fixed = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '2.1', leaseSweepInterval: 0.1 });
  const port = await fixed.start();
  const holderClient = new DflockdClient({ servers: [['127.0.0.1', port]] });
  const client = new DflockdClient({ servers: [['127.0.0.1', port]] });
  try {
    const holder = new DistributedLock('stale', { client: holderClient });
    expect(await holder.acquire()).toBe(true);
    const lock = new DistributedLock('stale', { client, leaseTtlS: 1 });
    expect(await lock.enqueue()).toBe('queued');
    expect(await holder.release()).toBe(true);
    await eventually(() => fixed.stats().locks.some((l) => l.key === 'stale' && l.owner_conn_id !== 0), 'the grant to the enqueued place', { timeoutMs: 2000 });
    await eventually(() => !fixed.stats().locks.some((l) => l.key === 'stale' && l.owner_conn_id !== 0), 'the grant expired and swept', { timeoutMs: 3000 });
    await expect(lock.wait(5)).rejects.toThrow();
    expect(lock.held).toBe(false);
  } finally {
    await holderClient.close();
    await client.close();
    await fixed.stop();
  }
});
