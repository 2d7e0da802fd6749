import { VirtualTimeScheduler, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { DflockdHttpClient } from '../../lib/http/index.js';
import type { LockEvent } from '../../lib/http/index.js';
import { AcquireTimeoutError, AuthError, ConnectionError, InvalidArgumentError } from '../../lib/errors.js';
import { FakeAnswer, FakeRequest, advance, fakeFetch, sessionIds, settle, token } from './fake-fetch.js';

/** A client on virtual time whose server grants every try-lock and renewal, unless `route` answers first. */
function setup(route: (req: FakeRequest) => FakeAnswer | undefined = () => undefined, options: { idleTimeoutS?: number; requestTimeoutS?: number } = {}) {
  const scheduler = new VirtualTimeScheduler();
  const sessions = sessionIds(options.idleTimeoutS ?? 20);
  let grants = 0;
  const fake = fakeFetch(scheduler, (req) => {
    const own = route(req) ?? sessions(req);
    if (own !== undefined) return own;
    if (/^\/v1\/(locks|semaphores)\/[^/]+$/.test(req.path)) return [200, { status: 'ok', token: token(++grants), lease_ttl_s: (req.body?.['lease_ttl_s'] as number | undefined) ?? 30 }];
    if (req.path.endsWith('/renew')) return [200, { remaining_s: (req.body?.['lease_ttl_s'] as number | undefined) ?? 30 }];
    if (req.path.endsWith('/release')) return [204];
    return [404, { error: 'not_found' }];
  });
  const client = new DflockdHttpClient({ url: 'http://127.0.0.1:6389/', fetch: fake.fetch, scheduler, authToken: 'sekrit', requestTimeoutS: options.requestTimeoutS });
  return { scheduler, client, requests: fake.requests };
}

describe('DflockdHttpClient on virtual time', () => {
  it('acquires with a try-lock on a lazily created session, sends the token as a Bearer header only, and releases on unsubscribe', async () => {
    const { client, requests } = setup();
    expect(requests).toHaveLength(0);
    const events: LockEvent[] = [];
    const sub = client.lock('orders', { leaseTtlS: 30 }).subscribe((e) => events.push(e));
    await settle();
    await settle();
    expect(events.map((e) => e.type)).toEqual(['acquired']);
    const [create, acquire] = requests;
    expect(create).toMatchObject({ method: 'POST', path: '/v1/sessions' });
    expect(acquire).toMatchObject({ method: 'POST', path: '/v1/locks/orders', body: { acquire_timeout_s: 0, lease_ttl_s: 30 } });
    expect(acquire!.headers['x-dflockd-session']).toBe('s1');
    for (const req of requests) {
      expect(req.headers['authorization']).toBe('Bearer sekrit');
      expect(req.path).not.toContain('sekrit');
    }
    sub.unsubscribe();
    await settle();
    await settle();
    const release = requests.find((r) => r.path === '/v1/locks/orders/release');
    // Release goes by token on the second session, never behind the acquiring one.
    expect(release).toMatchObject({ body: { token: token(1) } });
    expect(release!.headers['x-dflockd-session']).toBe('s2');
    await client.close();
    expect(requests.filter((r) => r.method === 'DELETE').map((r) => r.path).sort()).toEqual(['/v1/sessions/s1', '/v1/sessions/s2']);
    // No request follows a redirect (and none is copied by fetch in case it must).
    expect(requests.map((r) => r.redirect)).toEqual(requests.map(() => 'error'));
  });

  it('pings each session at half its idle timeout, and stops once closed', async () => {
    const { client, requests, scheduler } = setup(undefined, { idleTimeoutS: 8 });
    const sub = client.lock('k', { leaseTtlS: 60 }).subscribe();
    await settle();
    await settle();
    const t0 = scheduler.now();
    await advance(scheduler, 13_000, 250);
    const pings = requests.filter((r) => r.path === '/v1/sessions/s1/ping').map((r) => r.at - t0);
    expect(pings).toEqual([4_000, 8_000, 12_000]);
    sub.unsubscribe();
    await settle();
    await client.close();
    const count = requests.length;
    await advance(scheduler, 20_000, 1_000);
    expect(requests.length).toBe(count);
  });

  it('renews with the explicit lease, on the renewal session, at lease × renewRatio', async () => {
    const { client, requests, scheduler } = setup();
    const events: LockEvent[] = [];
    const sub = client.lock('k', { leaseTtlS: 30 }).subscribe((e) => events.push(e));
    await settle();
    await settle();
    const t0 = scheduler.now();
    await advance(scheduler, 16_000, 250);
    const renew = requests.find((r) => r.path === '/v1/locks/k/renew')!;
    expect(renew.body).toEqual({ token: token(1), lease_ttl_s: 30 });
    expect(renew.headers['x-dflockd-session']).toBe('s2');
    expect(renew.at - t0).toBeGreaterThan(11_000);
    expect(renew.at - t0).toBeLessThanOrEqual(15_100);
    expect(events.map((e) => e.type)).toEqual(['acquired', 'renewed']);
    sub.unsubscribe();
    await client.close();
  });

  it('a renewal unanswered for requestTimeoutS is aborted and the lease lost (disconnected) no later than its deadline', async () => {
    // requestTimeoutS 3: the renewal (at 4–5 s, jittered) is given up at 7–8 s, before the 10 s lease's deadline.
    const { client, requests, scheduler } = setup((req) => (req.path.endsWith('/renew') ? 'hang' : undefined), { requestTimeoutS: 3 });
    const events: LockEvent[] = [];
    const done = lastValueFrom(client.lock('k', { leaseTtlS: 10 }).pipe(toArray()));
    client.lock('k2', { leaseTtlS: 100 }).subscribe((e) => events.push(e));
    await settle();
    await settle();
    await advance(scheduler, 12_000, 100);
    const all = await done;
    const renew = requests.find((r) => r.path === '/v1/locks/k/renew')!;
    expect(renew.signal.aborted).toBe(true);
    const lost = all.at(-1)!;
    expect(lost).toMatchObject({ type: 'lost', reason: 'disconnected' });
    expect((lost as { error?: unknown }).error).toBeInstanceOf(ConnectionError);
    // Timing: aborted requestTimeoutS after it was sent (well inside the 10 s lease here).
    expect(scheduler.now()).toBeGreaterThanOrEqual(renew.at + 3_000);
    // The other lease is untouched by this one's trouble.
    expect(events.map((e) => e.type)).toEqual(['acquired']);
    await client.close();
  });

  it('a try-lock unanswered for requestTimeoutS fails with ConnectionError, never AcquireTimeoutError', async () => {
    const { client, scheduler } = setup((req) => (req.path === '/v1/locks/k' ? 'hang' : undefined), { requestTimeoutS: 3 });
    const failed = firstValueFrom(client.lock('k', { acquireTimeoutS: 0 })).catch((e: unknown) => e);
    await settle();
    await advance(scheduler, 7_000, 250);
    const error = await failed;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(AcquireTimeoutError);
    await client.close();
  });

  it('a long poll gets its own timeout on top of requestTimeoutS, and unsubscribing aborts it', async () => {
    const { client, requests, scheduler } = setup((req) => {
      if (req.path === '/v1/locks/k') return [200, { status: 'timeout' }];
      if (req.path === '/v1/locks/k/enqueue') return [200, { status: 'queued' }];
      if (req.path === '/v1/locks/k/wait') return 'hang';
      return undefined;
    }, { requestTimeoutS: 2 });
    const events: LockEvent[] = [];
    const sub = client.lock('k', { acquireTimeoutS: 30 }).subscribe({ next: (e) => events.push(e), error: () => undefined });
    await settle();
    await settle();
    await settle();
    expect(events.map((e) => e.type)).toEqual(['queued']);
    const wait = requests.find((r) => r.path === '/v1/locks/k/wait')!;
    expect(wait.body).toEqual({ timeout_s: 30 });
    await advance(scheduler, 10_000, 500);
    expect(wait.signal.aborted).toBe(false);
    sub.unsubscribe();
    expect(wait.signal.aborted).toBe(true);
    await client.close();
  });

  it('a queued long poll unanswered past its timeout plus requestTimeoutS fails with ConnectionError', async () => {
    const { client, scheduler } = setup((req) => {
      if (req.path === '/v1/locks/k') return [200, { status: 'timeout' }];
      if (req.path === '/v1/locks/k/enqueue') return [200, { status: 'queued' }];
      if (req.path === '/v1/locks/k/wait') return 'hang';
      return undefined;
    }, { requestTimeoutS: 2 });
    const failed = lastValueFrom(client.lock('k', { acquireTimeoutS: 5 })).catch((e: unknown) => e);
    await settle();
    await advance(scheduler, 6_500, 250);
    let settled = false;
    void failed.then(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
    await advance(scheduler, 1_000, 250);
    expect(await failed).toBeInstanceOf(ConnectionError);
    await client.close();
  });

  it('410 session_gone loses every lease of the session (disconnected), reports it, and re-creates the session for later calls', async () => {
    let gone = false;
    const { client, requests } = setup((req) => (gone && req.headers['x-dflockd-session'] === 's1' && !req.path.includes('/sessions/') ? [410, { error: 'session_gone' }] : undefined));
    const a: LockEvent[] = [];
    const b: LockEvent[] = [];
    const disconnected: string[] = [];
    client.events$.subscribe((e) => e.type === 'disconnected' && disconnected.push(e.server));
    client.lock('a').subscribe((e) => a.push(e));
    client.lock('b').subscribe((e) => b.push(e));
    await settle();
    await settle();
    gone = true;
    const c = firstValueFrom(client.lock('c'));
    await settle();
    await settle();
    await settle();
    expect(a.at(-1)).toMatchObject({ type: 'lost', reason: 'disconnected' });
    expect(b.at(-1)).toMatchObject({ type: 'lost', reason: 'disconnected' });
    expect(disconnected).toEqual(['http://127.0.0.1:6389']);
    // The acquisition that met the 410 tried again on a new session.
    expect(await c).toMatchObject({ type: 'acquired' });
    const tries = requests.filter((r) => r.path === '/v1/locks/c').map((r) => r.headers['x-dflockd-session']);
    expect(tries).toHaveLength(2);
    expect(tries[0]).toBe('s1');
    expect(tries[1]).not.toBe('s1');
    await client.close();
  });

  it('a renewal session the server ended is made again and the renewal retried there: the lease is kept', async () => {
    let reaped = false;
    const { client, requests, scheduler } = setup((req) => {
      if (!reaped && req.path.endsWith('/renew')) {
        reaped = true;
        return [410, { error: 'session_gone' }];
      }
      return undefined;
    });
    const events: LockEvent[] = [];
    const sub = client.lock('k', { leaseTtlS: 10 }).subscribe((e) => events.push(e));
    await settle();
    await settle();
    await advance(scheduler, 6_000, 100);
    expect(events.map((e) => e.type)).toEqual(['acquired', 'renewed']);
    expect(requests.filter((r) => r.path.endsWith('/renew')).map((r) => r.headers['x-dflockd-session'])).toEqual(['s2', 's3']);
    sub.unsubscribe();
    await client.close();
  });

  it('401 is an AuthError, a network failure a ConnectionError', async () => {
    const denied = setup((req) => (req.path === '/v1/sessions' ? [401, { error: 'unauthorized' }] : undefined));
    await expect(firstValueFrom(denied.client.lock('k'))).rejects.toBeInstanceOf(AuthError);
    await denied.client.close();
    const scheduler = new VirtualTimeScheduler();
    const down = new DflockdHttpClient({ url: 'http://127.0.0.1:1', scheduler, fetch: () => Promise.reject(new TypeError('fetch failed')) });
    await expect(firstValueFrom(down.lock('k'))).rejects.toBeInstanceOf(ConnectionError);
    await down.close();
  });

  it('refuses bad options, naming them', () => {
    const make = (o: object) => () => new DflockdHttpClient(o as never);
    const fetch = () => Promise.reject(new Error('unused'));
    expect(make({ fetch })).toThrow(/^url: /);
    expect(make({ url: 'ftp://x', fetch })).toThrow(/^url: .*http/);
    expect(make({ url: 'http://u:p@x:6389', fetch })).toThrow(/^url: .*credentials/);
    expect(make({ url: 'http://x:6389/?token=a', fetch })).toThrow(/^url: .*query/);
    expect(make({ url: 'http://x:6389', fetch, authToken: 'a b' })).toThrow(/^authToken: /);
    expect(make({ url: 'http://x:6389', fetch: 'no' })).toThrow(/^fetch: /);
    expect(make({ url: 'http://x:6389', fetch, requestTimeoutS: 0 })).toThrow(/^requestTimeoutS: /);
    expect(make({ url: 'http://x:6389', fetch, connectTimeoutS: Number.NaN })).toThrow(/^connectTimeoutS: /);
    expect(make({ url: 'http://x:6389', fetch, renewRatio: 1 })).toThrow(/^renewRatio: /);
    expect(make({ url: 'http://x:6389', fetch, fencing: 'yes' })).toThrow(/^fencing: /);
    expect(make({ url: 'http://x:6389', fetch, scheduler: {} })).toThrow(/^scheduler: /);
    expect(make({ url: 'http://x:6389', fetch, scheduler: {} })).toThrow(InvalidArgumentError);
    expect(new DflockdHttpClient({ url: 'https://x:6389/prefix/', fetch }).options.url).toBe('https://x:6389/prefix');
  });

  it('refuses a bad key or limit as an error of the stream, sending nothing', async () => {
    const { client, requests } = setup();
    await expect(firstValueFrom(client.lock('a b'))).rejects.toThrow(/^key: /);
    await expect(firstValueFrom(client.semaphore('k', 0))).rejects.toThrow(/^limit: /);
    expect(requests).toHaveLength(0);
    await client.close();
  });
});
