import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { AcquireTimeoutError, ConnectionError, DflockdClient, LockEvent } from '../../lib/index';
import { FaultConnection, FaultProxy } from '../../lib/testing/index';
import { TestServer, startServer } from '../helpers/server';

// A pooled connection that stops answering (black-holed) is detected by the reply watchdog
// within requestTimeoutS: its leases are lost ('disconnected'), what waited on it settles with
// a connection failure (never "the lock is busy"), and the pool never hands it out again.

const REQUEST_TIMEOUT_S = 0.5;

let server: TestServer;
let proxy: FaultProxy;
const accepted: FaultConnection[] = [];

beforeAll(async () => {
  server = await startServer();
  proxy = new FaultProxy({ target: { port: server.port } });
  await proxy.start();
  proxy.connection$.subscribe((c) => accepted.push(c));
});

afterAll(async () => {
  await proxy.stop();
  await server.stop();
});

test('a black-holed pooled connection is given up after requestTimeoutS: its lease is lost, the next caller gets a working connection', async () => {
  const client = new DflockdClient({ servers: [['127.0.0.1', proxy.port]], requestTimeoutS: REQUEST_TIMEOUT_S, connectTimeoutS: 5 });
  try {
    const events: LockEvent[] = [];
    let acquired: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (acquired = resolve));
    const done = new Promise<void>((resolve) =>
      client.lock('silent-a', { acquireTimeoutS: 0, leaseTtlS: 30 }).subscribe({
        next: (e) => {
          events.push(e);
          if (e.type === 'acquired') acquired();
        },
        complete: resolve,
        error: resolve,
      }),
    );
    await held;
    expect(accepted).toHaveLength(1);
    accepted[0]!.blackhole();

    const started = performance.now();
    // Routed to the silent connection (the pool's only one): it settles, and never as "busy".
    const outcome = await lastValueFrom(client.lock('silent-b', { acquireTimeoutS: 0, leaseTtlS: 30 }).pipe(take(1), toArray())).then(
      (got) => got[0]!.type,
      (error: unknown) => error,
    );
    expect(outcome === 'acquired' || outcome instanceof ConnectionError).toBe(true);
    expect(outcome).not.toBeInstanceOf(AcquireTimeoutError);
    await done;
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_S * 1000 + 2_000);
    const lost = events.find((e) => e.type === 'lost');
    expect(lost).toMatchObject({ type: 'lost', reason: 'disconnected' });
    expect(String(lost?.type === 'lost' ? lost.error?.message : '')).toContain(`no reply within requestTimeoutS=${REQUEST_TIMEOUT_S}`);

    // A later caller is served on a new connection, never the silent one.
    const stats = await firstValueFrom(client.stats());
    expect(stats.connections).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
  } finally {
    proxy.heal();
    await client.close();
  }
});

test('client.stats() routed to a black-holed connection fails with ConnectionError within requestTimeoutS', async () => {
  const client = new DflockdClient({ servers: [['127.0.0.1', proxy.port]], requestTimeoutS: REQUEST_TIMEOUT_S, connectTimeoutS: 5 });
  try {
    const before = accepted.length;
    await firstValueFrom(client.stats());
    const conn = accepted[before]!;
    conn.blackhole();
    const started = performance.now();
    const error = await firstValueFrom(client.stats()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).command).toBe('stats');
    expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_S * 1000 + 2_000);
    // The next one opens a fresh connection and is answered.
    expect((await firstValueFrom(client.stats())).server).toBe(`127.0.0.1:${proxy.port}`);
  } finally {
    proxy.heal();
    await client.close();
  }
});
