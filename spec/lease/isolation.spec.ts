import { filter, firstValueFrom } from 'rxjs';
import type { ClientEvent } from '../../lib/index.js';
import { eventually } from '../helpers/eventually.js';
import { Recorder } from '../helpers/recorder.js';
import { SWEEP_S, useProxiedServer } from '../reliability/support.js';

// Leases that share a connection never share a fate; the races the README names, driven for real.

const env = useProxiedServer({ leaseSweepInterval: SWEEP_S });

const held = async (key: string): Promise<boolean> => (await env.server.stats()).locks.some((l) => l.key === key && l.owner_conn_id > 0);
const waiters = async (key: string): Promise<number> => (await env.server.stats()).locks.find((l) => l.key === key)?.waiters ?? 0;

test("a 60 s lease survives its 2 s neighbour's deadline on the same connection (1.5 s of latency)", async () => {
  const client = env.newClient({ servers: env.through, maxSharedConnections: 1 });
  const events: ClientEvent[] = [];
  client.events$.subscribe((e) => events.push(e));
  const long = new Recorder(client.lock('co-long', { leaseTtlS: 60 }));
  const short = new Recorder(client.lock('co-short', { leaseTtlS: 2 }));
  await long.next('acquired');
  await short.next('acquired');
  // Both live on the one shared connection the client may open.
  expect(events.filter((e) => e.type === 'connected')).toHaveLength(1);

  env.proxy.setLatency(750); // each way: the short lease's renewal comes back after its deadline
  const lost = await short.next('lost', 5_000);
  expect(lost.reason).toBe('deadline');
  expect(short.completed).toBe(true);

  // The neighbour keeps its lease and its connection: nothing was destroyed.
  expect(long.count('lost')).toBe(0);
  expect(events.some((e) => e.type === 'disconnected')).toBe(false);
  expect(await held('co-long')).toBe(true);
  // The short lease's own `r`, written after its late renewal, frees its key.
  await eventually(async () => !(await held('co-short')), 'the short lease released by its own r', { timeoutMs: 5000 });
  env.proxy.heal();
  long.unsubscribe();
  await eventually(async () => !(await held('co-long')), 'the long lease released', { timeoutMs: 2000 });
}, 20_000);

test('a grant that arrives after unsubscribe is released (try-lock in flight)', async () => {
  const client = env.newClient({ servers: env.through });
  // A pooled connection first, so the try-lock is written at subscribe.
  await firstValueFrom(client.stats());
  const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released' && e.key === 'late-grant')));
  env.proxy.setLatency(300, { direction: 'toClient' });
  const r = new Recorder(client.lock('late-grant'));
  await eventually(() => held('late-grant'), 'the server granting the try-lock', { timeoutMs: 2000 });
  r.unsubscribe(); // the `ok <token>` is still on its way
  await released;
  expect(r.events).toEqual([]);
  await eventually(async () => !(await held('late-grant')), 'the late grant handed back', { timeoutMs: 2000 });
}, 15_000);

test('unsubscribing with e + w in flight gives the place up: the lock never goes to the one who left', async () => {
  const holder = env.newClient({ servers: env.server.servers });
  const hold = new Recorder(holder.lock('in-flight'));
  await hold.next('acquired');
  const client = env.newClient({ servers: env.through });
  env.proxy.setLatency(300, { direction: 'toClient' });
  const waiter = new Recorder(client.lock('in-flight', { acquireTimeoutS: 10 }));
  // The server has queued the `e` (and blocks in the `w` after it); its `queued` is on its way.
  await eventually(async () => (await waiters('in-flight')) === 1, 'the enqueue reaching the server', { timeoutMs: 2000 });
  const left = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'disconnected')));
  waiter.unsubscribe();
  env.proxy.heal();
  // When `queued` lands the connection is closed: the only way out of a v1.10 queue.
  const closed = await left;
  expect(closed.type === 'disconnected' && closed.error.message).toMatch(/left the queue/);
  hold.unsubscribe();
  // However the server learns the waiter left (its connection closed on `queued`), the lock is free for a newcomer.
  const third = env.newClient({ servers: env.server.servers });
  await eventually(async () => {
    const r = new Recorder(third.lock('in-flight', { acquireTimeoutS: 0 }));
    // `next` rejects when the stream fails first (the try-lock refused).
    const outcome = await r.next('acquired').then(
      () => true,
      () => false,
    );
    r.unsubscribe();
    return outcome;
  }, 'the lock free for a newcomer', { timeoutMs: 5000, everyMs: 100 });
  expect(waiter.types).toEqual([]);
}, 15_000);
