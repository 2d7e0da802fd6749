import { AcquireTimeoutError, ConnectionError, DflockdClient, DflockdError, type ClientEvent } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { freePort } from '../helpers/server.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { expectNoLeaks, recordEvents } from './support.js';

// The server goes away (stopped in process; SIGKILL for the real dflockd) and a new one starts on
// the same port. Nothing survives on the server, so the client must treat every old lease as
// lost, never send an old token again, and work normally against the new server.

const servers: TestServer[] = [];
const clients: DflockdClient[] = [];

async function serverAt(port: number): Promise<TestServer> {
  const server = await startServer({}, { port });
  servers.push(server);
  return server;
}

function newClient(port: number, extra: { connectTimeoutS?: number } = {}): DflockdClient {
  const client = new DflockdClient({ servers: [['127.0.0.1', port]], ...extra });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Tokens mentioned by events, from index `from` on. */
function tokensIn(events: Array<{ event: ClientEvent }>, from = 0): string[] {
  return events.slice(from).flatMap(({ event }) => ('token' in event ? [event.token] : []));
}

test('stopped while holding: lost(disconnected); after the restart new subscriptions acquire with new tokens; old tokens are never used again', async () => {
  const first = await serverAt(0);
  const port = first.port;
  const client = newClient(port);
  const events = recordEvents(client);
  const lock = new Recorder(client.lock('rs-held', { leaseTtlS: 30 }));
  const sem = new Recorder(client.semaphore('rs-sem', 3, { leaseTtlS: 30 }));
  const oldTokens = [(await lock.next('acquired')).token, (await sem.next('acquired')).token];

  await first.stop();
  expect(await lock.next('lost')).toMatchObject({ reason: 'disconnected', token: oldTokens[0] });
  expect(await sem.next('lost')).toMatchObject({ reason: 'disconnected', token: oldTokens[1] });
  expect(lock.completed && sem.completed).toBe(true);
  const mark = events.length;

  const second = await serverAt(port);
  const again = new Recorder(client.lock('rs-held', { leaseTtlS: 30 }));
  const semAgain = new Recorder(client.semaphore('rs-sem', 3, { leaseTtlS: 30 }));
  const newTokens = [(await again.next('acquired')).token, (await semAgain.next('acquired')).token];
  expect(newTokens.filter((t) => oldTokens.includes(t))).toEqual([]);
  again.unsubscribe();
  semAgain.unsubscribe();
  await client.close();

  // Nothing after the restart mentions an old token: no renew, no release, no release failure.
  expect(tokensIn(events, mark).filter((t) => oldTokens.includes(t))).toEqual([]);
  expect(events.slice(mark).filter(({ event }) => event.type === 'release-failed')).toEqual([]);
  const stats = await second.stats();
  expect(stats.locks).toEqual([]);
  expect(stats.semaphores).toEqual([]);
  await expectNoLeaks(port);
});

test('stopped while queued: the waiter fails promptly with a clear error (no hang); after the restart it works', async () => {
  const first = await serverAt(0);
  const port = first.port;
  const holderClient = newClient(port);
  const client = newClient(port);
  const holder = new Recorder(holderClient.lock('rs-queued'));
  await holder.next('acquired');
  const waiter = new Recorder(client.lock('rs-queued', { acquireTimeoutS: 20 }));
  await waiter.next('queued');
  const stoppedAt = performance.now();
  await first.stop();
  const error = await waiter.failure(5_000);
  expect(performance.now() - stoppedAt).toBeLessThan(2_000);
  expect(error).toBeInstanceOf(DflockdError);
  expect(error).not.toBeInstanceOf(AcquireTimeoutError);
  // dflockd answers a blocked wait with `error` on shutdown, or the socket just closes (kill).
  expect(['error', 'CONNECTION_CLOSED']).toContain((error as DflockdError).code);
  expect(await holder.next('lost')).toMatchObject({ reason: 'disconnected' });

  await serverAt(port);
  const again = new Recorder(client.lock('rs-queued'));
  await again.next('acquired');
  again.unsubscribe();
  await client.close();
  await holderClient.close();
  await expectNoLeaks(port);
});

test('stopped while connecting, and down: ConnectionError, not a hang; after the restart it works', async () => {
  const first = await serverAt(0);
  const port = first.port;
  const client = newClient(port, { connectTimeoutS: 2 });
  // The connect is under way (subscribe starts it) when the server goes.
  const connecting = new Recorder(client.lock('rs-connect'));
  await first.stop();
  expect(await connecting.failure(4_000)).toBeInstanceOf(ConnectionError);

  // Nothing listens on the port now: refused at once.
  const down = new Recorder(client.lock('rs-connect'));
  expect(await down.failure(4_000)).toBeInstanceOf(ConnectionError);

  await serverAt(port);
  const again = new Recorder(client.lock('rs-connect'));
  await again.next('acquired');
  again.unsubscribe();
  await client.close();
  await expectNoLeaks(port);
});

test('a port with no server yet: ConnectionError naming the server; the first server to start there is used', async () => {
  const port = await freePort();
  const client = newClient(port, { connectTimeoutS: 2 });
  const refused = new Recorder(client.lock('rs-none'));
  const error = (await refused.failure(4_000)) as ConnectionError;
  expect(error).toBeInstanceOf(ConnectionError);
  expect(error.message).toContain(`127.0.0.1:${port}`);
  await serverAt(port);
  const ok = new Recorder(client.lock('rs-none'));
  await ok.next('acquired');
  ok.unsubscribe();
  await client.close();
  await expectNoLeaks(port);
});
