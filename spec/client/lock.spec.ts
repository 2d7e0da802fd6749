import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { AcquireTimeoutError, DflockdClient, LimitMismatchError } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { eventually } from '../helpers/eventually.js';
import { TestServer, startServer, testCompat } from '../helpers/server.js';

let server: TestServer;
let client: DflockdClient;
let other: DflockdClient;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  client = new DflockdClient({ servers: server.servers });
  other = new DflockdClient({ servers: server.servers });
});
afterEach(async () => {
  await client.close();
  await other.close();
});

/** True when a fresh client can take the key at once (try-lock). */
async function freeNow(key: string): Promise<boolean> {
  const probe = new Recorder(other.lock(key, { acquireTimeoutS: 0 }));
  try {
    await probe.next('acquired', 3_000);
    return true;
  } catch (error) {
    if (error instanceof AcquireTimeoutError) return false;
    throw error;
  } finally {
    probe.unsubscribe();
  }
}

describe('client.lock() event sequences', () => {
  test('an uncontended lock emits acquired with a token and a local deadline, never queued', async () => {
    const before = performance.now();
    const r = new Recorder(client.lock('seq-free', { leaseTtlS: 5 }));
    const acquired = await r.next('acquired');
    expect(acquired).toMatchObject({ type: 'acquired', key: 'seq-free', leaseS: 5 });
    expect(acquired.token).toMatch(/^[0-9a-f]{32}$/);
    expect(acquired.expiresAt).toBeGreaterThan(before + 4_000);
    expect(acquired.expiresAt).toBeLessThanOrEqual(performance.now() + 5_000);
    expect(r.types).toEqual(['acquired']);
    r.unsubscribe();
  });

  test('renewals follow at lease × renewRatio and move the deadline', async () => {
    const r = new Recorder(client.lock('seq-renew', { leaseTtlS: 2, renewRatio: 0.2 }));
    const acquired = await r.next('acquired');
    const renewed = await r.next('renewed');
    expect(renewed.token).toBe(acquired.token);
    expect(renewed.leaseS).toBe(2);
    expect(renewed.expiresAt).toBeGreaterThan(acquired.expiresAt);
    const gap = r.times[1]! - r.times[0]!;
    expect(gap).toBeGreaterThanOrEqual(300);
    expect(gap).toBeLessThan(1_500);
    r.unsubscribe();
  });

  test('a contended lock emits queued, then acquired once the holder unsubscribes', async () => {
    const holder = new Recorder(client.lock('seq-q'));
    await holder.next('acquired');
    const waiter = new Recorder(other.lock('seq-q', { acquireTimeoutS: 5 }));
    await waiter.next('queued');
    expect(waiter.types).toEqual(['queued']);
    holder.unsubscribe();
    await waiter.next('acquired');
    expect(waiter.types.slice(0, 2)).toEqual(['queued', 'acquired']);
    waiter.unsubscribe();
  });

  test('five subscribers are served in FIFO order', async () => {
    const holder = new Recorder(client.lock('fifo'));
    await holder.next('acquired');
    const order: number[] = [];
    const waiters: Recorder[] = [];
    for (let i = 0; i < 5; i++) {
      const r = new Recorder(client.lock('fifo', { acquireTimeoutS: 10 }));
      await r.next('queued');
      waiters.push(r);
      void r.next('acquired').then(() => {
        order.push(i);
        r.unsubscribe();
      });
    }
    holder.unsubscribe();
    await eventually(() => order.length === 5, 'all five acquired', { timeoutMs: 2000 });
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  test('acquireTimeoutS 0 on a held key fails with AcquireTimeoutError, not an event', async () => {
    const holder = new Recorder(client.lock('try'));
    await holder.next('acquired');
    const r = new Recorder(other.lock('try', { acquireTimeoutS: 0 }));
    const error = await r.failure();
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect((error as AcquireTimeoutError).code).toBe('timeout');
    expect((error as Error).message).toContain('acquireTimeoutS');
    expect(r.events).toEqual([]);
    holder.unsubscribe();
  });

  test('an acquire timeout after waiting in the queue is an error naming the key', async () => {
    const holder = new Recorder(client.lock('wait-timeout'));
    await holder.next('acquired');
    const r = new Recorder(other.lock('wait-timeout', { acquireTimeoutS: 1 }));
    const error = await r.failure(5_000);
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect((error as Error).message).toContain('wait-timeout');
    expect(r.types).toEqual(['queued']);
    holder.unsubscribe();
  });
});

describe('unsubscribing releases in every phase', () => {
  test('held: the server frees the key at once and events$ reports the release', async () => {
    const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released')));
    const r = new Recorder(client.lock('rel-held'));
    await r.next('acquired');
    expect(await freeNow('rel-held')).toBe(false);
    r.unsubscribe();
    expect(await released).toMatchObject({ type: 'released', key: 'rel-held' });
    expect(await freeNow('rel-held')).toBe(true);
  });

  test('before connecting: nothing is sent and nothing is held', async () => {
    const fresh = new DflockdClient({ servers: server.servers });
    const r = new Recorder(fresh.lock('rel-early'));
    r.unsubscribe();
    expect(await freeNow('rel-early')).toBe(true);
    expect(r.events).toEqual([]);
    await fresh.close();
  });

  test('queued: the waiter leaves the queue and the next waiter gets the lock', async () => {
    const holder = new Recorder(client.lock('rel-queued'));
    await holder.next('acquired');
    const quitter = new Recorder(other.lock('rel-queued', { acquireTimeoutS: 10 }));
    await quitter.next('queued');
    const third = new Recorder(other.lock('rel-queued', { acquireTimeoutS: 10 }));
    await third.next('queued');
    quitter.unsubscribe();
    holder.unsubscribe();
    await third.next('acquired', 5_000);
    expect(quitter.count('acquired')).toBe(0);
    third.unsubscribe();
  });

  test('unsubscribe is synchronous and never throws, even twice', async () => {
    const r = new Recorder(client.lock('rel-twice'));
    await r.next('acquired');
    expect(() => {
      r.unsubscribe();
      r.unsubscribe();
    }).not.toThrow();
    await eventually(() => freeNow('rel-twice'), 'the lock is released', { timeoutMs: 2000 });
  });

  test('many acquire/release rounds reuse pooled connections', async () => {
    for (let i = 0; i < 20; i++) {
      const r = new Recorder(client.lock(`reuse-${i % 3}`));
      await r.next('acquired');
      r.unsubscribe();
    }
    const stats = await server.stats();
    // The prober client and this one: a handful of connections, not one per acquisition.
    expect(stats.connections).toBeLessThanOrEqual(4);
  });
});

describe('semaphores', () => {
  test('up to limit holders at once; the next one queues until a slot frees', async () => {
    const a = new Recorder(client.semaphore('sem', 2));
    const b = new Recorder(client.semaphore('sem', 2));
    await a.next('acquired');
    await b.next('acquired');
    const c = new Recorder(other.semaphore('sem', 2, { acquireTimeoutS: 5 }));
    await c.next('queued');
    a.unsubscribe();
    await c.next('acquired');
    b.unsubscribe();
    c.unsubscribe();
  });

  test('a lock on a semaphore key: LimitMismatchError in 1.10 (one key space), a separate lock from 2.x on; another limit always fails', async () => {
    const a = new Recorder(client.semaphore('sem-mm', 3));
    await a.next('acquired');
    const asLock = new Recorder(other.lock('sem-mm'));
    if (testCompat() === '1.10') expect(await asLock.failure()).toBeInstanceOf(LimitMismatchError);
    else await asLock.next('acquired');
    asLock.unsubscribe();
    const otherLimit = new Recorder(other.semaphore('sem-mm', 2));
    const error = await otherLimit.failure();
    expect(error).toBeInstanceOf(LimitMismatchError);
    expect((error as LimitMismatchError).key).toBe('sem-mm');
    a.unsubscribe();
  });
});

describe('events$, lost$ and stats()', () => {
  test('events$ carries connected, acquired and released with the server address', async () => {
    const seen = firstValueFrom(client.events$.pipe(take(3), toArray()));
    const r = new Recorder(client.lock('ev'));
    await r.next('acquired');
    r.unsubscribe();
    const events = await seen;
    expect(events.map((e) => e.type)).toEqual(['connected', 'acquired', 'released']);
    expect(events.every((e) => e.server === `127.0.0.1:${server.port}`)).toBe(true);
  });

  test('a grant reaches the subscriber first, then events$ (with the same fields and the server)', async () => {
    const order: string[] = [];
    const monitor = client.events$.subscribe((e) => order.push(`events$:${e.type}`));
    const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released')));
    let acquired: Record<string, unknown> | undefined;
    const held = new Promise<void>((resolve) => {
      const subscription = client.lock('ev-order', { leaseTtlS: 7 }).subscribe((e) => {
        order.push(`subscriber:${e.type}`);
        if (e.type !== 'acquired') return;
        acquired = { ...e };
        subscription.unsubscribe();
        resolve();
      });
    });
    await held;
    await released;
    monitor.unsubscribe();
    expect(order.filter((x) => x !== 'events$:connected')).toEqual(['subscriber:acquired', 'events$:acquired', 'events$:released']);
    expect(acquired).toEqual({ type: 'acquired', key: 'ev-order', token: expect.any(String), leaseS: 7, expiresAt: expect.any(Number) });
  });

  test('stats() is typed and shows a held lock', async () => {
    const r = new Recorder(client.lock('st', { leaseTtlS: 7 }));
    await r.next('acquired');
    const stats = await firstValueFrom(client.stats(0));
    const entry = stats.locks.find((l) => l.key === 'st');
    expect(entry).toBeDefined();
    expect(entry!.leaseExpiresInS).toBeGreaterThan(5);
    expect(entry!.leaseExpiresInS).toBeLessThanOrEqual(7);
    expect(stats.connections).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(stats.idleLocks)).toBe(true);
    r.unsubscribe();
  });

  test('renew always sends the lease: the server-side expiry never jumps to the default', async () => {
    const r = new Recorder(client.lock('explicit-lease', { leaseTtlS: 3, renewRatio: 0.2 }));
    await r.next('acquired');
    await r.next('renewed');
    const stats = await server.stats();
    const entry = stats.locks.find((l) => l.key === 'explicit-lease')!;
    expect(entry.lease_expires_in_s).toBeLessThanOrEqual(3);
    expect(entry.lease_expires_in_s).toBeGreaterThan(2);
    r.unsubscribe();
  });
});

describe('close()', () => {
  test('releases what is held, ends connections, and later acquisitions fail', async () => {
    const closing = new DflockdClient({ servers: server.servers });
    const r = new Recorder(closing.lock('close-held'));
    await r.next('acquired');
    const waiting = new Recorder(closing.lock('close-held', { acquireTimeoutS: 10 }));
    await waiting.next('queued');
    await closing.close();
    // The holder is told it no longer holds the lock; the waiter's acquisition fails.
    expect(await r.next('lost')).toMatchObject({ reason: 'disconnected', error: { code: 'CONNECTION_CLOSED' } });
    expect(r.completed).toBe(true);
    expect(await waiting.failure()).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(await freeNow('close-held')).toBe(true);
    const after = new Recorder(closing.lock('close-after'));
    expect(((await after.failure()) as { code: string }).code).toBe('CONNECTION_CLOSED');
  });
});

describe('unsubscribing from inside next()', () => {
  const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('200 take-one-then-release cycles leave no lease timer behind', async () => {
    const before = timeouts();
    const scheduler = (client as unknown as { leaseContext: { held: { wheel: { size: number } } } }).leaseContext.held.wheel;
    for (let i = 0; i < 200; i++) {
      await firstValueFrom(client.lock('cycle').pipe(filter((e) => e.type === 'acquired')));
    }
    await eventually(async () => (await server.stats()).locks.every((l) => l.key !== 'cycle'), 'the last release', { timeoutMs: 2000 });
    // A stale step used to arm one renewal per cycle, each holding its whole stream until it fired.
    expect(scheduler.size).toBe(0);
    // Nothing per cycle is left: at most the connection's one reply-watchdog timer, which is left
    // to lapse (unreferenced) one requestTimeoutS after its last reply instead of being re-armed
    // per idle gap.
    expect(timeouts()).toBeLessThanOrEqual(before + 1);
  });

  test('a contended grant released inside next() is released exactly once, with no renewal after it', async () => {
    const holder = new Recorder(client.lock('once'));
    await holder.next('acquired');
    const released: string[] = [];
    other.events$.subscribe((e) => released.push(e.type));
    const waiter = other.lock('once', { acquireTimeoutS: 5 }).subscribe((e) => {
      if (e.type === 'acquired') waiter.unsubscribe();
    });
    holder.unsubscribe();
    await eventually(() => released.includes('released'), 'the waiter released', { timeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 300)); // nothing more may happen: no renewal, no second release
    expect(released.filter((t) => t === 'released' || t === 'renewed' || t === 'release-failed')).toEqual(['released']);
  });
});
