import { Recorder } from '../helpers/recorder.js';
import { SWEEP_S, expectNoLeaks, useProxiedServer } from './support.js';

// Latency well within the lease must never look like a loss.

const env = useProxiedServer({ leaseSweepInterval: SWEEP_S });

test('200 ms each way (400 ms round trip) on a 2 s lease, held 4.5 s: renewed every time, never lost, released cleanly', async () => {
  env.proxy.setLatency(200);
  const client = env.newClient({ servers: env.through });
  const lock = new Recorder(client.lock('slow-lock', { leaseTtlS: 2 }));
  const sem = new Recorder(client.semaphore('slow-sem', 2, { leaseTtlS: 2 }));
  await lock.next('acquired');
  await sem.next('acquired');
  // The assertion is that nothing goes wrong within this window: a fixed wait.
  await new Promise((resolve) => setTimeout(resolve, 4_500));
  expect(lock.count('lost')).toBe(0);
  expect(sem.count('lost')).toBe(0);
  // Renewals every lease × 0.5 = 1 s, each taking 400 ms: at least 3 in 4.5 s.
  expect(lock.count('renewed')).toBeGreaterThanOrEqual(3);
  expect(sem.count('renewed')).toBeGreaterThanOrEqual(3);
  const stats = await env.server.stats();
  expect(stats.locks.find((l) => l.key === 'slow-lock')?.owner_conn_id).toBeGreaterThan(0);
  expect(stats.semaphores.find((s) => s.key === 'slow-sem')?.holders).toBe(1);
  lock.unsubscribe();
  sem.unsubscribe();
  await client.close();
  const after = await env.server.stats();
  expect(after.locks.filter((l) => l.key === 'slow-lock')).toEqual([]);
  expect(after.semaphores.filter((s) => s.key === 'slow-sem')).toEqual([]);
  await expectNoLeaks(env.through[0]![1]);
}, 15_000);

test('slow replies only (600 ms server → client) on a 3 s lease: no false lost', async () => {
  env.proxy.setLatency(600, { direction: 'toClient' });
  const client = env.newClient({ servers: env.through });
  const r = new Recorder(client.lock('slow-replies', { leaseTtlS: 3 }));
  await r.next('acquired');
  await new Promise((resolve) => setTimeout(resolve, 3_500));
  expect(r.count('lost')).toBe(0);
  expect(r.count('renewed')).toBeGreaterThanOrEqual(1);
  r.unsubscribe();
  await client.close();
  await expectNoLeaks(env.through[0]![1]);
}, 15_000);
