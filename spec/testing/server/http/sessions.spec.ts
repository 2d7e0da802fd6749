// PROTOCOL.md §3.2–§3.3: sessions own their holds and two-phase places, serve one
// call at a time (ping and DELETE never wait), are reaped after twice the idle
// timeout, and a long poll whose client leaves gives its place up.
import { waitFor } from '../raw-client';
import { type HttpFixture, useHttpServer } from './http-fixture';

// Reaped after 0.5 s unseen: short enough to watch, long enough for the other tests.
const fx: HttpFixture = useHttpServer({ httpSessionIdleTimeout: 0.25 });
let n = 0;
const fresh = (): string => `s${++n}`;

const acquire = (session: string, key: string, body: object = {}, signal?: AbortSignal) =>
  fx.call('POST', `/v1/locks/${key}`, { session, body, signal });
const release = (session: string, key: string, token: string) => fx.call('POST', `/v1/locks/${key}/release`, { session, body: { token } });
const lockOf = (key: string) => fx.server.stats().locks.find((l) => l.key === key);
const blocked = (count: number) => waitFor(() => fx.server.blockedCount === count, 2000, `${count} blocked`);

describe('one call at a time per session', () => {
  test('a second call waits for the first; ping and DELETE do not, and DELETE wakes the wait with 410', async () => {
    const [s, holder] = await Promise.all([fx.session(), fx.session()]);
    const k = fresh();
    const held = await acquire(holder, k);
    const order: string[] = [];
    const first = acquire(s, k, { acquire_timeout_s: 10 }).then((r) => (order.push('first'), r));
    await blocked(1);
    const second = acquire(s, fresh()).then((r) => (order.push('second'), r));
    // ping is answered while the long poll is still blocked.
    const ping = await fx.call('POST', `/v1/sessions/${s}/ping`);
    expect(ping.status).toBe(204);
    expect(order).toEqual([]);
    expect(fx.server.blockedCount).toBe(1);
    const del = await fx.call('DELETE', `/v1/sessions/${s}`);
    expect(del.status).toBe(204);
    const [r1, r2] = await Promise.all([first, second]);
    expect([r1.status, r1.json.error]).toEqual([410, 'session_gone']);
    // The queued call found its session gone when its turn came.
    expect([r2.status, r2.json.error]).toEqual([410, 'session_gone']);
    expect(order).toEqual(['first', 'second']);
    expect(lockOf(k)).toEqual(expect.objectContaining({ waiters: 0 }));
    await release(holder, k, held.json.token);
  });

  test('calls are answered in order once the blocking one ends', async () => {
    const [s, holder] = await Promise.all([fx.session(), fx.session()]);
    const k = fresh();
    const k2 = fresh();
    const held = await acquire(holder, k);
    const order: string[] = [];
    const first = acquire(s, k, { acquire_timeout_s: 10 }).then((r) => (order.push('first'), r));
    await blocked(1);
    const second = acquire(s, k2).then((r) => (order.push('second'), r));
    // Not answered while the first blocks, even though k2 is free.
    await fx.call('POST', `/v1/sessions/${s}/ping`);
    expect(lockOf(k2)).toBeUndefined();
    await release(holder, k, held.json.token);
    const [r1, r2] = await Promise.all([first, second]);
    expect([r1.json.status, r2.json.status]).toEqual(['ok', 'ok']);
    expect(order).toEqual(['first', 'second']);
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });

  test('a second session renews while the first is blocked in a long poll', async () => {
    const [s, side] = await Promise.all([fx.session(), fx.session()]);
    const k = fresh();
    const mineKey = fresh();
    const mine = await acquire(s, mineKey, { lease_ttl_s: 30 });
    const other = await acquire(side, k);
    const poll = acquire(s, k, { acquire_timeout_s: 10 });
    await blocked(1);
    const renewed = await fx.call('POST', `/v1/locks/${mineKey}/renew`, { session: side, body: { token: mine.json.token, lease_ttl_s: 40 } });
    expect(renewed.json).toEqual({ remaining_s: 40 });
    await release(side, k, other.json.token);
    expect((await poll).json.status).toBe('ok');
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });
});

describe('ending a session', () => {
  test('DELETE releases what the session holds and drops its two-phase places; the next waiter is granted', async () => {
    const [s, next] = await Promise.all([fx.session(), fx.session()]);
    const k = fresh();
    const q = fresh();
    const held = await acquire(s, k, { lease_ttl_s: 30 });
    const blocker = await acquire(next, q);
    expect((await fx.call('POST', `/v1/locks/${q}/enqueue`, { session: s })).json.status).toBe('queued');
    expect(lockOf(q)!.waiters).toBe(1);
    const waiting = acquire(next, k, { acquire_timeout_s: 10 });
    await blocked(1);
    expect((await fx.call('DELETE', `/v1/sessions/${s}`)).status).toBe(204);
    const granted = await waiting;
    expect(granted.json.status).toBe('ok');
    expect(lockOf(q)!.waiters).toBe(0);
    // The old token is gone with its session.
    expect((await release(next, k, held.json.token)).json.error).toBe('not_held');
    await release(next, k, granted.json.token);
    await release(next, q, blocker.json.token);
  });

  test('a session not seen for twice the idle timeout is reaped with what it holds', async () => {
    const [s] = await Promise.all([fx.session()]);
    const k = fresh();
    await acquire(s, k, { lease_ttl_s: 30 });
    const created = Date.now();
    await waitFor(() => lockOf(k) === undefined, 3000, 'the reaped session to release its lock');
    const elapsed = Date.now() - created;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(2000);
    expect((await acquire(s, k)).json.error).toBe('session_gone');
    expect((await fx.call('POST', `/v1/sessions/${s}/ping`)).status).toBe(410);
  });

  test('pings keep a session alive; so does a request in flight longer than the reaping time', async () => {
    const [s, holder] = await Promise.all([fx.session(), fx.session()]);
    const k = fresh();
    const started = Date.now();
    // Pinging at half the idle timeout, as clients do, for three reaping periods.
    for (let i = 0; i < 20 && Date.now() - started < 1500; i++) {
      expect((await fx.call('POST', `/v1/sessions/${s}/ping`)).status).toBe(204);
      expect((await fx.call('POST', `/v1/sessions/${holder}/ping`)).status).toBe(204);
      await new Promise((r) => setTimeout(r, 125));
    }
    const held = await acquire(holder, k);
    // A 1 s long poll: twice the reaping time with no other sign of life (the holder keeps pinging).
    let polling = true;
    const poll = acquire(s, k, { acquire_timeout_s: 1 }).finally(() => (polling = false));
    for (let i = 0; polling && i < 50; i++) {
      expect((await fx.call('POST', `/v1/sessions/${holder}/ping`)).status).toBe(204);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await poll).json).toEqual({ status: 'timeout' });
    expect((await fx.call('POST', `/v1/sessions/${s}/ping`)).status).toBe(204);
    await release(holder, k, held.json.token);
    await Promise.all([s, holder].map((id) => fx.call('DELETE', `/v1/sessions/${id}`)));
  });
});

describe('a long poll whose client goes away', () => {
  test('gets no answer and gives its place up: the next waiter is granted', async () => {
    const [holder, quitter, patient] = await Promise.all([fx.session(), fx.session(), fx.session()]);
    const k = fresh();
    const held = await acquire(holder, k);
    const abort = new AbortController();
    const gone = acquire(quitter, k, { acquire_timeout_s: 10 }, abort.signal).catch((err: Error) => err.name);
    await blocked(1);
    const waiting = acquire(patient, k, { acquire_timeout_s: 10 });
    await blocked(2);
    abort.abort();
    expect(await gone).toBe('AbortError');
    await waitFor(() => lockOf(k)!.waiters === 1, 2000, 'the aborted waiter to leave the queue');
    await release(holder, k, held.json.token);
    const granted = await waiting;
    expect(granted.json.status).toBe('ok');
    // The quitting session is still usable: its next call is served.
    expect((await acquire(quitter, fresh())).json.status).toBe('ok');
    await release(patient, k, granted.json.token);
    await Promise.all([holder, quitter, patient].map((id) => fx.call('DELETE', `/v1/sessions/${id}`)));
  });

  test('an aborted two-phase wait gives the place up too', async () => {
    const [holder, quitter] = await Promise.all([fx.session(), fx.session()]);
    const k = fresh();
    const held = await acquire(holder, k);
    expect((await fx.call('POST', `/v1/locks/${k}/enqueue`, { session: quitter })).json.status).toBe('queued');
    const abort = new AbortController();
    const gone = fx.call('POST', `/v1/locks/${k}/wait`, { session: quitter, body: { timeout_s: 10 }, signal: abort.signal }).catch((e: Error) => e.name);
    await blocked(1);
    abort.abort();
    expect(await gone).toBe('AbortError');
    await waitFor(() => lockOf(k)!.waiters === 0, 2000, 'the aborted wait to leave the queue');
    expect((await fx.call('POST', `/v1/locks/${k}/wait`, { session: quitter, body: { timeout_s: 0 } })).json.error).toBe('not_enqueued');
    await release(holder, k, held.json.token);
    await Promise.all([holder, quitter].map((id) => fx.call('DELETE', `/v1/sessions/${id}`)));
  });

  test('a call aborted while it waits its turn is never run; the session serves the next one', async () => {
    const [s, holder] = await Promise.all([fx.session(), fx.session()]);
    const k = fresh();
    const queuedKey = fresh();
    const held = await acquire(holder, k);
    const poll = acquire(s, k, { acquire_timeout_s: 10 });
    await blocked(1);
    const abort = new AbortController();
    const queued = acquire(s, queuedKey, {}, abort.signal).catch((e: Error) => e.name);
    // Give the queued request time to reach the server before it is aborted.
    await fx.call('POST', `/v1/sessions/${s}/ping`);
    abort.abort();
    expect(await queued).toBe('AbortError');
    await release(holder, k, held.json.token);
    const granted = await poll;
    expect(granted.json.status).toBe('ok');
    expect((await acquire(s, fresh())).json.status).toBe('ok');
    expect(lockOf(queuedKey)).toBeUndefined();
    await fx.call('DELETE', `/v1/sessions/${s}`);
  });

  test('a grant racing the abort is handed on (every interleaving ends with the patient waiter holding)', async () => {
    for (let i = 0; i < 8; i++) {
      const [holder, quitter, patient] = await Promise.all([fx.session(), fx.session(), fx.session()]);
      const k = fresh();
      const held = await acquire(holder, k);
      const abort = new AbortController();
      const gone = acquire(quitter, k, { acquire_timeout_s: 10 }, abort.signal).catch((e: Error) => e.name);
      await blocked(1);
      const waiting = acquire(patient, k, { acquire_timeout_s: 10 });
      await blocked(2);
      // The release and the abort leave together; either may reach the server first.
      const released = release(holder, k, held.json.token);
      if (i % 2 === 0) await new Promise((r) => setImmediate(r));
      abort.abort();
      await Promise.all([released, gone]);
      const granted = await waiting;
      expect(granted.json.status).toBe('ok');
      expect(lockOf(k)).toEqual(expect.objectContaining({ waiters: 0 }));
      await release(patient, k, granted.json.token);
      await Promise.all([holder, quitter, patient].map((id) => fx.call('DELETE', `/v1/sessions/${id}`)));
    }
  });
});
