import { DflockdClient, DrainingError } from '../../lib/index.js';
import { DflockdTestServer } from '../../lib/testing/index.js';
import { Recorder } from '../helpers/recorder.js';

// dflockd ≥ 1.16 drains on shutdown: `error_draining`, then the connection closes. A held lease
// learns it as `lost` with reason 'server-shutdown'; an acquisition fails with DrainingError.

test("a held lease whose renewal is answered error_draining is lost with reason 'server-shutdown'", async () => {
  const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '2.1', shutdownTimeout: 5 });
  const port = await server.start();
  const client = new DflockdClient({ servers: [['127.0.0.1', port]] });
  try {
    const r = new Recorder(client.lock('drain-held', { leaseTtlS: 2 }));
    await r.next('acquired');
    const stopping = server.stop({ graceful: true });
    // The next renewal (within a second) meets the drain.
    const lost = await r.next('lost', 5_000);
    expect(lost.reason).toBe('server-shutdown');
    expect(lost.error).toBeInstanceOf(DrainingError);
    expect(r.completed).toBe(true);
    await stopping;
  } finally {
    await client.close();
    await server.stop();
  }
});

test('an acquisition sent to a draining server fails with DrainingError (code error_draining)', async () => {
  const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '2.1', shutdownTimeout: 5 });
  const port = await server.start();
  const client = new DflockdClient({ servers: [['127.0.0.1', port]] });
  try {
    // A pooled connection first: new connections are refused during the drain.
    const held = new Recorder(client.lock('drain-warm'));
    await held.next('acquired');
    const stopping = server.stop({ graceful: true });
    const r = new Recorder(client.lock('drain-new', { acquireTimeoutS: 0 }));
    const error = await r.failure(5_000);
    expect(error).toBeInstanceOf(DrainingError);
    expect((error as DrainingError).code).toBe('error_draining');
    held.unsubscribe();
    await stopping;
  } finally {
    await client.close();
    await server.stop();
  }
});

test("a lease on another connection of a draining server is lost as 'server-shutdown' when the server closes it", async () => {
  // The busy lease renews after ≤ 1 s, inside the 1.5 s the drain lasts before the force-close.
  const server = new DflockdTestServer({ port: 0, host: '127.0.0.1', compat: '2.1', shutdownTimeout: 1.5 });
  const port = await server.start();
  const client = new DflockdClient({ servers: [['127.0.0.1', port]], dedicatedConnections: true });
  try {
    // Two leases on two connections: the long one will send nothing during the drain.
    const quiet = new Recorder(client.lock('drain-quiet', { leaseTtlS: 60 }));
    const busy = new Recorder(client.lock('drain-busy', { leaseTtlS: 2 }));
    await quiet.next('acquired');
    await busy.next('acquired');
    const stopping = server.stop({ graceful: true });
    expect((await busy.next('lost', 5_000)).reason).toBe('server-shutdown');
    const lost = await quiet.next('lost', 5_000);
    expect(lost.reason).toBe('server-shutdown');
    expect(lost.error).toBeInstanceOf(DrainingError);
    await stopping;
  } finally {
    await client.close();
    await server.stop();
  }
});
