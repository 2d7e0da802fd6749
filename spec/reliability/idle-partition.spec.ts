import { Recorder } from '../helpers/recorder.js';
import { SWEEP_S, expectNoLeaks, useProxiedServer } from './support.js';

// A partition longer than the server's read timeout, with a lease longer than that timeout
// (the default configuration: lease 33 s, read timeout 23 s). The server drops the silent
// connection and auto-releases its lock after the read timeout, well before the lease would
// have run out: the holder must consider the lock lost by then.

const READ_TIMEOUT_S = 2;

const env = useProxiedServer({ readTimeout: READ_TIMEOUT_S, leaseSweepInterval: SWEEP_S });

test('lease 6 s, server read timeout 2 s, holder black-holed: lost comes before the waiter is granted the lock', async () => {
  const holderClient = env.newClient({ servers: env.through, serverIdleTimeoutS: READ_TIMEOUT_S });
  const waiterClient = env.newClient({ servers: env.server.servers, serverIdleTimeoutS: READ_TIMEOUT_S });
  const holder = new Recorder(holderClient.lock('idle-part', { leaseTtlS: 6 }));
  await holder.next('acquired');
  const waiter = new Recorder(waiterClient.lock('idle-part', { acquireTimeoutS: 10 }));
  await waiter.next('queued');
  env.proxy.blackhole();
  // The server drops the silent holder after ~2 s and grants the waiter.
  await waiter.next('acquired', 8_000);
  const grantedAt = waiter.times[waiter.types.indexOf('acquired')]!;
  await holder.next('lost', 8_000);
  const lostAt = holder.times[holder.types.indexOf('lost')]!;
  // Negative: the holder knew before the waiter was granted. Positive: both believed they held it.
  expect(lostAt - grantedAt).toBeLessThan(0);
  waiter.unsubscribe();
  await holderClient.close();
  await waiterClient.close();
  await expectNoLeaks(env.through[0]![1]);
}, 20_000);
