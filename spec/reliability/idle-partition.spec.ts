import { DflockdClient } from '../../lib/index.js';
import { FaultProxy } from '../../lib/testing/index.js';
import { Recorder } from '../helpers/recorder.js';
import { type PortServer, SWEEP_S, expectNoLeaks, startServerAt } from './support.js';

// A partition longer than the server's read timeout, with a lease longer than that timeout
// (the default configuration: lease 33 s, read timeout 23 s). The server drops the silent
// connection and auto-releases its lock after the read timeout, well before the lease would
// have run out: the holder must consider the lock lost by then.

const READ_TIMEOUT_S = 2;

let server: PortServer;
let proxy: FaultProxy;
let through: Array<[string, number]>;
const clients: DflockdClient[] = [];

beforeAll(async () => {
  server = await startServerAt(0, { readTimeout: READ_TIMEOUT_S, leaseSweepInterval: SWEEP_S });
  proxy = new FaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  through = [['127.0.0.1', await proxy.start()]];
});
afterEach(async () => {
  proxy.heal();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await proxy.stop();
  await server.stop();
});

test('lease 6 s, server read timeout 2 s, holder black-holed: lost comes before the waiter is granted the lock', async () => {
  const holderClient = new DflockdClient({ servers: through, serverIdleTimeoutS: READ_TIMEOUT_S });
  const waiterClient = new DflockdClient({ servers: server.servers, serverIdleTimeoutS: READ_TIMEOUT_S });
  clients.push(holderClient, waiterClient);
  const holder = new Recorder(holderClient.lock('idle-part', { leaseTtlS: 6 }));
  await holder.next('acquired');
  const waiter = new Recorder(waiterClient.lock('idle-part', { acquireTimeoutS: 10 }));
  await waiter.next('queued');
  proxy.blackhole();
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
  await expectNoLeaks(through[0]![1]);
}, 20_000);
