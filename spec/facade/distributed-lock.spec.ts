import { firstValueFrom, toArray, take } from 'rxjs';
import { AcquireTimeoutError, DflockdClient, DflockdError, DistributedLock, DistributedSemaphore, InvalidArgumentError, LeaseLostError, NotEnqueuedError } from '../../lib/index.js';
import { eventually } from '../helpers/eventually.js';
import { TestServer, startServer } from '../helpers/server.js';

let server: TestServer;
let opts: { servers: Array<[string, number]>; serverIdleTimeoutS: number };

beforeAll(async () => {
  server = await startServer({ readTimeout: 1 });
  opts = { servers: server.servers, serverIdleTimeoutS: 1 };
});
afterAll(() => server.stop());

const heldKeys = async (): Promise<string[]> => (await server.stats()).locks.filter((l) => l.owner_conn_id !== 0).map((l) => l.key);

describe('acquire / release', () => {
  test('acquire() resolves true with token and lease; release() true; the key is free again', async () => {
    const lock = new DistributedLock('f-basic', { ...opts, leaseTtlS: 9 });
    expect(lock.token).toBeNull();
    expect(lock.lease).toBeNull();
    expect(await lock.acquire()).toBe(true);
    expect(lock.token).toMatch(/^[0-9a-f]{32}$/);
    expect(lock.lease).toBe(9);
    expect(await heldKeys()).toContain('f-basic');
    expect(await lock.release()).toBe(true);
    expect(lock.token).toBeNull();
    expect(await heldKeys()).not.toContain('f-basic');
  });

  test('acquire() resolves false on timeout', async () => {
    const a = new DistributedLock('f-timeout', opts);
    const b = new DistributedLock('f-timeout', { ...opts, acquireTimeoutS: 0 });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(b.token).toBeNull();
    await a.release();
  });

  test('acquire() while holding rejects with INVALID_STATE and keeps the hold', async () => {
    const lock = new DistributedLock('f-twice', opts);
    await lock.acquire();
    const token = lock.token;
    await expect(lock.acquire()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(lock.token).toBe(token);
    await lock.release();
  });

  test('release() twice: true, then false', async () => {
    const lock = new DistributedLock('f-rel2', opts);
    await lock.acquire();
    expect(await lock.release()).toBe(true);
    expect(await lock.release()).toBe(false);
  });

  test('release() without acquire() is false', async () => {
    expect(await new DistributedLock('f-none', opts).release()).toBe(false);
  });

  test('release() during an in-flight renewal is ordered after it and confirmed', async () => {
    const lock = new DistributedLock('f-midrenew', { ...opts, leaseTtlS: 2, renewRatio: 0.05 });
    await lock.acquire();
    // Renewals go out every 100 ms: one is in flight most of the time.
    await firstValueFrom(lock.events$.pipe(take(2), toArray()));
    expect(await lock.release()).toBe(true);
    expect(await heldKeys()).not.toContain('f-midrenew');
  });

  test('the instance is reusable after release(): a new acquisition, a new token', async () => {
    const lock = new DistributedLock('f-reuse', opts);
    await lock.acquire();
    const first = lock.token;
    await lock.release();
    expect(await lock.acquire()).toBe(true);
    expect(lock.token).not.toBe(first);
    await lock.release();
  });

  test('bad arguments throw InvalidArgumentError naming the argument, before anything is sent', () => {
    expect(() => new DistributedLock('has space', opts)).toThrow(InvalidArgumentError);
    expect(() => new DistributedLock('k', { ...opts, acquireTimeoutS: -1 })).toThrow(/acquireTimeoutS/);
    expect(() => new DistributedLock('k', { ...opts, leaseTtlS: 0 })).toThrow(/leaseTtlS/);
    expect(() => new DistributedSemaphore('k', 0, opts)).toThrow(/limit/);
    expect(() => new DistributedLock('k', { servers: [['127.0.0.1', 0]] })).toThrow(/servers\[0\]/);
  });
});

describe('two-phase enqueue / wait', () => {
  test('enqueue() on a free key: acquired; wait() is then a no-op resolving true', async () => {
    const lock = new DistributedLock('f-2p-free', opts);
    expect(await lock.enqueue()).toBe('acquired');
    expect(lock.token).not.toBeNull();
    expect(await lock.wait()).toBe(true);
    await lock.release();
  });

  test('queued, then wait() later than the server read timeout still gets the lock', async () => {
    const holder = new DistributedLock('f-2p-late', opts);
    await holder.acquire();
    const lock = new DistributedLock('f-2p-late', opts);
    expect(await lock.enqueue()).toBe('queued');
    // The server drops connections silent for 1 s; the queued place must survive 2.5 s. (A fixed
    // wait: the assertion is that nothing happens within it. The cadence of the heartbeats that
    // keep it alive is checked on virtual time in spec/lease/virtual-time.spec.ts.)
    await new Promise((r) => setTimeout(r, 2_500));
    await holder.release();
    expect(await lock.wait(5)).toBe(true);
    expect(await heldKeys()).toContain('f-2p-late');
    await lock.release();
  }, 10_000);

  test('wait() times out to false and the place is gone', async () => {
    const holder = new DistributedLock('f-2p-to', opts);
    await holder.acquire();
    const lock = new DistributedLock('f-2p-to', opts);
    expect(await lock.enqueue()).toBe('queued');
    expect(await lock.wait(1)).toBe(false);
    await expect(lock.wait(1)).rejects.toBeInstanceOf(NotEnqueuedError);
    await holder.release();
  });

  test('wait() without enqueue() rejects with NotEnqueuedError', async () => {
    await expect(new DistributedLock('f-2p-none', opts).wait()).rejects.toBeInstanceOf(NotEnqueuedError);
  });

  test('a grant that expired before wait() is never reported as held (no stale token)', async () => {
    const holder = new DistributedLock('f-2p-stale', opts);
    await holder.acquire();
    const lock = new DistributedLock('f-2p-stale', { ...opts, leaseTtlS: 1 });
    expect(await lock.enqueue()).toBe('queued');
    await holder.release();
    // Granted while not waiting, with a 1 s lease that runs out (and is swept) before wait().
    await eventually(async () => (await heldKeys()).includes('f-2p-stale'), 'the grant to the enqueued place', { timeoutMs: 2_000 });
    await eventually(async () => !(await heldKeys()).includes('f-2p-stale'), 'the grant expired and swept', { timeoutMs: 3_000 });
    const outcome = await lock.wait(1).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(DflockdError);
    expect(['error_lease_expired', 'error_not_enqueued']).toContain((outcome as DflockdError).code);
    expect(lock.token).toBeNull();
    const again = new DistributedLock('f-2p-stale', { ...opts, acquireTimeoutS: 0 });
    expect(await again.acquire()).toBe(true);
    await again.release();
  }, 10_000);

  test('enqueue() twice rejects with INVALID_STATE', async () => {
    const holder = new DistributedLock('f-2p-twice', opts);
    await holder.acquire();
    const lock = new DistributedLock('f-2p-twice', opts);
    await lock.enqueue();
    await expect(lock.enqueue()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(await lock.release()).toBe(false); // leaving the queue: nothing was held
    await holder.release();
  });
});

describe('withLock, hold() and await using', () => {
  test('withLock runs the work under the lock and releases after', async () => {
    const lock = new DistributedLock('f-with', opts);
    const result = await lock.withLock(async (signal, lease) => {
      expect(signal.aborted).toBe(false);
      expect(await heldKeys()).toContain('f-with');
      return lease.token.length;
    });
    expect(result).toBe(32);
    expect(await heldKeys()).not.toContain('f-with');
  });

  test('an error thrown by the work is the error withLock rejects with', async () => {
    const lock = new DistributedLock('f-with-err', opts);
    const boom = new Error('boom');
    await expect(lock.withLock(async () => { throw boom; })).rejects.toBe(boom);
    expect(await heldKeys()).not.toContain('f-with-err');
  });

  test('withLock rejects with AcquireTimeoutError when the lock is busy', async () => {
    const holder = new DistributedLock('f-with-busy', opts);
    await holder.acquire();
    await expect(new DistributedLock('f-with-busy', { ...opts, acquireTimeoutS: 0 }).withLock(async () => 1)).rejects.toBeInstanceOf(AcquireTimeoutError);
    await holder.release();
  });

  test('await using releases at the end of the scope', async () => {
    {
      await using held = await new DistributedLock('f-using', opts).hold();
      expect(held.token).toMatch(/^[0-9a-f]{32}$/);
      expect(await heldKeys()).toContain('f-using');
    }
    expect(await heldKeys()).not.toContain('f-using');
  });

  test('hold() throws AcquireTimeoutError on timeout', async () => {
    const holder = new DistributedLock('f-hold-to', opts);
    await holder.acquire();
    await expect(new DistributedLock('f-hold-to', { ...opts, acquireTimeoutS: 0 }).hold()).rejects.toBeInstanceOf(AcquireTimeoutError);
    await holder.release();
  });
});

describe('semaphores and shared clients', () => {
  test('DistributedSemaphore admits limit holders', async () => {
    const sems = [1, 2, 3].map(() => new DistributedSemaphore('f-sem', 2, { ...opts, acquireTimeoutS: 0 }));
    expect(await sems[0]!.acquire()).toBe(true);
    expect(await sems[1]!.acquire()).toBe(true);
    expect(await sems[2]!.acquire()).toBe(false);
    await sems[0]!.release();
    expect(await sems[2]!.acquire()).toBe(true);
    await sems[1]!.release();
    await sems[2]!.release();
  });

  test('a shared client is used (and not closed) by the facade', async () => {
    const client = new DflockdClient(opts);
    const lock = new DistributedLock('f-shared', { client });
    await lock.acquire();
    await lock.release();
    const again = new DistributedLock('f-shared', { client });
    expect(await again.acquire()).toBe(true);
    await again.release();
    await client.close();
  });

  test('events$ and lost$ of the instance; a lost lease aborts withLock\'s signal', async () => {
    const local = await startServer();
    const lock = new DistributedLock('f-lost', { servers: local.servers });
    const lost = firstValueFrom(lock.lost$);
    const outcome = lock.withLock(async (signal) => {
      await local.stop();
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
      return 'done';
    });
    await expect(outcome).rejects.toBeInstanceOf(LeaseLostError);
    expect((await lost).reason).toBe('disconnected');
    await eventually(() => lock.token === null, 'the lock forgets its token', { timeoutMs: 2000 });
  });
});
