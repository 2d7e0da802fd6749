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
  // Renewals every lease × 0.5 = 1 s, each taking 400 ms: three of them outlast the 2 s lease.
  // (100 such cycles run on virtual time in spec/lease/virtual-time.spec.ts.)
  await lock.count$('renewed', 3, 6_000);
  await sem.count$('renewed', 3, 6_000);
  expect(lock.count('lost')).toBe(0);
  expect(sem.count('lost')).toBe(0);
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
  // Renewed twice: past the 3 s lease with every reply 600 ms late.
  await r.count$('renewed', 2, 6_000);
  expect(r.count('lost')).toBe(0);
  r.unsubscribe();
  await client.close();
  await expectNoLeaks(env.through[0]![1]);
}, 15_000);
