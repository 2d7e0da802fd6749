import { filter, firstValueFrom } from 'rxjs';
import { DflockdClient, DistributedLock, fenceOf } from '../../lib/index.js';
import { DflockdTestServer } from '../../lib/testing/index.js';
import { Recorder } from '../helpers/recorder.js';

// dflockd 2.1 fencing tokens, as a user reads them: `fence` on acquired/renewed, lock.fence.

let server: DflockdTestServer;
let servers: Array<[string, number]>;
beforeAll(async () => {
  server = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '2.1' });
  servers = [['127.0.0.1', await server.start()]];
});
afterAll(() => server.stop());

test('with fencing, acquired and renewed carry the fence of the token; it grows with every grant', async () => {
  const client = new DflockdClient({ servers, fencing: true });
  try {
    const fences: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      const acquired = await firstValueFrom(client.lock(i % 2 === 0 ? 'fenced-a' : 'fenced-b').pipe(filter((e) => e.type === 'acquired')));
      expect(acquired.type === 'acquired' && acquired.fence).toBe(fenceOf(acquired.token));
      fences.push(acquired.type === 'acquired' ? acquired.fence! : -1n);
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]! > fences[i - 1]!).toBe(true);
    // A renewal keeps the token, and so the fence.
    const r = new Recorder(client.lock('fenced-renew', { leaseTtlS: 1 }));
    const acquired = await r.next('acquired');
    const renewed = await r.next('renewed', 5_000);
    expect(renewed.fence).toBe(acquired.fence);
    r.unsubscribe();
  } finally {
    await client.close();
  }
});

test('without fencing, events carry no fence; the facade has lock.fence with it', async () => {
  const plain = new DflockdClient({ servers });
  const fencing = new DflockdClient({ servers, fencing: true });
  try {
    const acquired = await firstValueFrom(plain.lock('unfenced').pipe(filter((e) => e.type === 'acquired')));
    expect(acquired.type === 'acquired' && acquired.fence).toBeUndefined();
    const lock = new DistributedLock('facade-fence', { client: fencing });
    expect(lock.fence).toBeNull();
    expect(await lock.acquire()).toBe(true);
    expect(lock.fence).toBe(fenceOf(lock.token!));
    await lock.release();
    expect(lock.fence).toBeNull();
  } finally {
    await plain.close();
    await fencing.close();
  }
});
