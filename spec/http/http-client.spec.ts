import * as nodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subscription, filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { DflockdClient } from '../../lib/client.js';
import { DistributedLock } from '../../lib/facade/distributed-lock.js';
import { DflockdHttpClient } from '../../lib/http/index.js';
import type { HttpFetch, LockEvent } from '../../lib/http/index.js';
import { AuthError, ConnectionError, LimitMismatchError } from '../../lib/errors.js';
import { fenceOf } from '../../lib/protocol/fence.js';
import { DflockdTestServer } from '../../lib/testing/index.js';
import { eventually } from '../helpers/eventually.js';

// One server for the file (HTTP and TCP share its lock table), always stopped.
const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', httpPort: 0, httpCorsAllowedOrigins: ['http://localhost:4200'], defaultLeaseTtl: 30 });
const clients: Array<{ close(): Promise<void> }> = [];
let url: string;

beforeAll(async () => {
  await server.start();
  url = server.httpUrl!;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => server.stop());

/** The session ids a client used, seen through its fetch. */
function recordingFetch(): { fetch: HttpFetch; sessions: Set<string> } {
  const sessions = new Set<string>();
  const fetch: HttpFetch = (u, init) => {
    const id = init.headers['x-dflockd-session'];
    if (id !== undefined) sessions.add(id);
    return globalThis.fetch(u, init);
  };
  return { fetch, sessions };
}

function http(options: Partial<ConstructorParameters<typeof DflockdHttpClient>[0]> = {}): DflockdHttpClient {
  const client = new DflockdHttpClient({ url, ...options });
  clients.push(client);
  return client;
}

function tcp(): DflockdClient {
  const client = new DflockdClient({ servers: [['127.0.0.1', server.port]] });
  clients.push(client);
  return client;
}

async function lockEntry(client: DflockdHttpClient, key: string) {
  const stats = await firstValueFrom(client.stats());
  return stats.locks.find((l) => l.key === key);
}

describe('DflockdHttpClient over real HTTP (DflockdTestServer)', () => {
  it('acquires, then releases on unsubscribe (stats show it held, then free)', async () => {
    const client = http();
    const events: LockEvent[] = [];
    const sub = client.lock('h-acquire', { leaseTtlS: 20 }).subscribe((e) => events.push(e));
    await eventually(() => events.length > 0, 'acquired');
    expect(events[0]).toMatchObject({ type: 'acquired', key: 'h-acquire', leaseS: 20 });
    expect((await lockEntry(client, 'h-acquire'))?.ownerConnId).not.toBe(0);
    const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released')));
    sub.unsubscribe();
    expect(await released).toMatchObject({ type: 'released', key: 'h-acquire' });
    expect((await lockEntry(client, 'h-acquire'))?.ownerConnId ?? 0).toBe(0);
  });

  it('renews a short lease with its own lease length', async () => {
    const client = http();
    const events = await lastValueFrom(client.lock('h-renew', { leaseTtlS: 1 }).pipe(take(3), toArray()));
    expect(events.map((e) => e.type)).toEqual(['acquired', 'renewed', 'renewed']);
    expect(events[1]).toMatchObject({ leaseS: 1 });
  });

  it('queues behind a TCP holder, and acquires once the TCP client releases', async () => {
    const holder = tcp();
    const held = new Subscription();
    await new Promise<void>((resolve) => held.add(holder.lock('h-queue').subscribe((e) => e.type === 'acquired' && resolve())));
    const client = http();
    const events: LockEvent[] = [];
    const sub = client.lock('h-queue', { acquireTimeoutS: 10 }).subscribe((e) => events.push(e));
    await eventually(() => events.length > 0, 'queued');
    expect(events.map((e) => e.type)).toEqual(['queued']);
    held.unsubscribe();
    await eventually(() => events.length > 1, 'acquired after the TCP release');
    expect(events.map((e) => e.type)).toEqual(['queued', 'acquired']);
    sub.unsubscribe();
  });

  it('a loop re-taking its key never queues behind its own release (the try-lock follows the release)', async () => {
    // Releases travel slowly (injected latency on their way out): nothing but the client orders them before the next try-lock.
    const slowReleases: HttpFetch = (u, init) =>
      u.endsWith('/release') ? new Promise<void>((r) => setTimeout(r, 40)).then(() => globalThis.fetch(u, init)) : globalThis.fetch(u, init);
    const client = http({ fetch: slowReleases });
    const types: string[] = [];
    client.events$.subscribe((e) => 'key' in e && e.key === 'h-loop' && types.push(e.type));
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const sub: Subscription = client.lock('h-loop', { acquireTimeoutS: 5 }).subscribe({
          next: (e) => {
            if (e.type !== 'acquired') return;
            // Released at once, and the next round subscribes in the same tick.
            queueMicrotask(() => {
              sub.unsubscribe();
              resolve();
            });
          },
          error: reject,
        });
      });
    }
    await eventually(() => types.filter((t) => t === 'released').length === 5, 'five releases');
    expect(types.filter((t) => t === 'queued')).toEqual([]);
    expect(types.filter((t) => t === 'acquired')).toHaveLength(5);
  });

  it('two acquisitions of one key on one client queue in turn (a session has one place per key)', async () => {
    const holder = tcp();
    const held = holder.lock('h-twice').subscribe();
    const client = http();
    await eventually(async () => (await lockEntry(client, 'h-twice')) !== undefined, 'TCP holder');
    const first: LockEvent[] = [];
    const second: LockEvent[] = [];
    const errors: unknown[] = [];
    const subFirst = client.lock('h-twice', { acquireTimeoutS: 10 }).subscribe({ next: (e) => first.push(e), error: (e: unknown) => errors.push(e) });
    const subSecond = client.lock('h-twice', { acquireTimeoutS: 10 }).subscribe({ next: (e) => second.push(e), error: (e: unknown) => errors.push(e) });
    await eventually(() => first.length > 0, 'the first queued');
    held.unsubscribe();
    await eventually(() => first.some((e) => e.type === 'acquired') && second.length > 0, 'the first acquired, the second queued');
    subFirst.unsubscribe();
    await eventually(() => second.some((e) => e.type === 'acquired'), 'the second acquired');
    expect(errors).toEqual([]);
    expect(first.map((e) => e.type)).toEqual(['queued', 'acquired']);
    expect(second.map((e) => e.type)).toEqual(['queued', 'acquired']);
    subSecond.unsubscribe();
  });

  it('unsubscribing while queued gives the place up (the long poll is aborted)', async () => {
    const holder = tcp();
    const held = holder.lock('h-leave').subscribe();
    const client = http();
    await eventually(async () => (await lockEntry(client, 'h-leave'))?.ownerConnId !== undefined, 'TCP holder');
    const events: LockEvent[] = [];
    const sub = client.lock('h-leave', { acquireTimeoutS: 20 }).subscribe((e) => events.push(e));
    await eventually(() => events.length > 0, 'queued');
    expect((await lockEntry(client, 'h-leave'))?.waiters).toBe(1);
    sub.unsubscribe();
    await eventually(async () => (await lockEntry(client, 'h-leave'))?.waiters === 0, 'the waiter is gone');
    held.unsubscribe();
  });

  it('a session deleted server-side loses its leases as disconnected, and the client makes a new session for later calls', async () => {
    const { fetch, sessions } = recordingFetch();
    const client = http({ fetch });
    const events: LockEvent[] = [];
    client.lock('h-gone', { leaseTtlS: 2 }).subscribe((e) => events.push(e));
    await eventually(() => events.length > 0, 'acquired');
    const [acquiring] = [...sessions];
    const res = await globalThis.fetch(`${url}/v1/sessions/${acquiring}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    // The next call on that session (here: a later acquisition) meets 410 session_gone.
    const again = await firstValueFrom(client.lock('h-gone-2'));
    expect(again.type).toBe('acquired');
    await eventually(() => events.at(-1)?.type === 'lost', 'lost');
    expect(events.at(-1)).toMatchObject({ type: 'lost', reason: 'disconnected' });
    // The deleted session and the one made after the 410.
    expect(sessions.size).toBeGreaterThanOrEqual(2);
  });

  it('maps HTTP errors to the same classes: 409 limit_mismatch, 401 unauthorized, a refused connection', async () => {
    const client = http();
    const sub = client.semaphore('h-limit', 2).subscribe();
    await eventually(async () => (await firstValueFrom(client.stats())).semaphores.some((s) => s.key === 'h-limit'), 'semaphore');
    await expect(firstValueFrom(client.semaphore('h-limit', 3, { acquireTimeoutS: 0 }))).rejects.toBeInstanceOf(LimitMismatchError);
    sub.unsubscribe();
    const authed = new DflockdTestServer({ port: 0, host: '127.0.0.1', httpPort: 0, authToken: 'right' });
    await authed.start();
    try {
      const wrong = new DflockdHttpClient({ url: authed.httpUrl!, authToken: 'wrong' });
      await expect(firstValueFrom(wrong.lock('k'))).rejects.toBeInstanceOf(AuthError);
      await wrong.close();
      const right = new DflockdHttpClient({ url: authed.httpUrl!, authToken: 'right' });
      expect((await firstValueFrom(right.lock('k'))).type).toBe('acquired');
      await right.close();
    } finally {
      await authed.stop();
    }
    const down = http({ url: 'http://127.0.0.1:1' });
    await expect(firstValueFrom(down.lock('k'))).rejects.toBeInstanceOf(ConnectionError);
  });

  it('semaphore: limit holders at once, the next one queued until a slot frees', async () => {
    const client = http();
    const a: LockEvent[] = [];
    const c: LockEvent[] = [];
    const subA = client.semaphore('h-sem', 2).subscribe((e) => a.push(e));
    const subB = client.semaphore('h-sem', 2).subscribe();
    await eventually(async () => (await firstValueFrom(client.stats())).semaphores.find((s) => s.key === 'h-sem')?.holders === 2, 'two holders');
    // Another client: this one's session is not blocked by the third's long poll.
    const other = http();
    const subC = other.semaphore('h-sem', 2, { acquireTimeoutS: 10 }).subscribe((e) => c.push(e));
    await eventually(() => c.length > 0, 'queued');
    expect(c.map((e) => e.type)).toEqual(['queued']);
    subA.unsubscribe();
    await eventually(() => c.length > 1, 'acquired');
    expect(c.map((e) => e.type)).toEqual(['queued', 'acquired']);
    expect(a.map((e) => e.type)).toEqual(['acquired']);
    subB.unsubscribe();
    subC.unsubscribe();
  });

  it('close() while queued ends the acquisition with an error and leaves the queue', async () => {
    const holder = tcp();
    const held = holder.lock('h-close-q').subscribe();
    const probe = http();
    await eventually(async () => (await lockEntry(probe, 'h-close-q')) !== undefined, 'held');
    const client = new DflockdHttpClient({ url });
    const events: LockEvent[] = [];
    let failure: unknown;
    client.lock('h-close-q', { acquireTimeoutS: 20 }).subscribe({ next: (e) => events.push(e), error: (e: unknown) => (failure = e) });
    await eventually(() => events.length > 0, 'queued');
    await client.close();
    expect(failure).toBeInstanceOf(ConnectionError);
    await eventually(async () => (await lockEntry(probe, 'h-close-q'))?.waiters === 0, 'the waiter is gone');
    held.unsubscribe();
  });

  it('withLock runs the work under the lock and releases', async () => {
    const client = http();
    const seen = await client.withLock('h-with', async (signal, lease) => {
      expect(signal.aborted).toBe(false);
      return (await lockEntry(client, lease.key))?.ownerConnId !== 0;
    });
    expect(seen).toBe(true);
    expect((await lockEntry(client, 'h-with'))?.ownerConnId ?? 0).toBe(0);
  });

  it('the Promise facade runs over the HTTP client', async () => {
    const client = http();
    const lock = new DistributedLock('h-facade', { client, acquireTimeoutS: 2 });
    expect(await lock.acquire()).toBe(true);
    expect(lock.token).toMatch(/^[0-9a-f]{32}$/);
    expect(await lock.release()).toBe(true);
    expect(await lock.enqueue()).toBe('acquired');
    expect(await lock.release()).toBe(true);
  });

  it('close() releases what is held and deletes both sessions', async () => {
    const before = server.httpSessionCount;
    const client = new DflockdHttpClient({ url });
    const events: LockEvent[] = [];
    client.lock('h-close', { leaseTtlS: 1 }).subscribe((e) => events.push(e));
    await eventually(() => events.some((e) => e.type === 'renewed'), 'renewed (both sessions exist)');
    expect(server.httpSessionCount).toBe(before + 2);
    await client.close();
    expect(events.at(-1)).toMatchObject({ type: 'lost', reason: 'disconnected' });
    expect(server.httpSessionCount).toBe(before);
    const probe = http();
    expect((await lockEntry(probe, 'h-close'))?.ownerConnId ?? 0).toBe(0);
    await expect(firstValueFrom(client.lock('x'))).rejects.toBeInstanceOf(ConnectionError);
  });

  it('an acquire/release cycle is two requests once the sessions exist: the try-lock, and the release on the renewal session', async () => {
    const seen: string[] = [];
    const client = http({
      fetch: (u, init) => {
        seen.push(`${init.method} ${u.slice(url.length)} ${init.headers['x-dflockd-session'] ?? '-'}`);
        return globalThis.fetch(u, init);
      },
    });
    const cycle = async (): Promise<void> => {
      const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released' && e.key === 'h-cycle')));
      await firstValueFrom(client.lock('h-cycle', { acquireTimeoutS: 10 }).pipe(filter((e) => e.type === 'acquired')));
      await released;
    };
    await cycle(); // creates both sessions
    seen.length = 0;
    for (let i = 0; i < 5; i++) await cycle();
    expect(seen).toHaveLength(10);
    const [acquire, release] = [seen[0]!.split(' '), seen[1]!.split(' ')];
    expect(acquire.slice(0, 2)).toEqual(['POST', '/v1/locks/h-cycle']);
    expect(release.slice(0, 2)).toEqual(['POST', '/v1/locks/h-cycle/release']);
    expect(acquire[2]).not.toBe(release[2]);
    for (let i = 0; i < 10; i++) expect(seen[i]).toBe(seen[i % 2]);
  });

  it('a redirect is not followed: the call fails with ConnectionError and never reaches the target', async () => {
    // A plain HTTP listener that answers every request with a 307 to the real server.
    const redirector = nodeHttp.createServer((req, res) => {
      req.resume();
      res.writeHead(307, { Location: `${url}${req.url ?? '/'}` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const before = server.httpSessionCount;
      const client = http({ url: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}` });
      const failure = await firstValueFrom(client.lock('h-redirect')).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ConnectionError);
      expect((failure as Error).message).toContain('redirect');
      await expect(firstValueFrom(client.stats())).rejects.toBeInstanceOf(ConnectionError);
      expect(server.httpSessionCount).toBe(before);
    } finally {
      redirector.closeAllConnections();
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
    }
  });

  it('fencing: acquired and renewed carry the token fence, increasing per grant', async () => {
    const client = http({ fencing: true });
    const first = await lastValueFrom(client.lock('h-fence', { leaseTtlS: 1 }).pipe(take(2), toArray()));
    expect(first[0]).toMatchObject({ type: 'acquired', fence: fenceOf((first[0] as { token: string }).token) });
    expect((first[1] as { fence?: bigint }).fence).toBe((first[0] as { fence?: bigint }).fence);
    const second = await firstValueFrom(client.lock('h-fence'));
    expect((second as { fence: bigint }).fence > (first[0] as { fence: bigint }).fence).toBe(true);
  });
});
