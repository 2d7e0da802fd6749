import * as net from 'node:net';
import * as path from 'node:path';
import { AuthError, ConnectionError, DflockdClient } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { expectNoLeaks } from './support.js';

// Servers that refuse the client: connection limit reached, TLS spoken on the port, and an auth
// token rotated under a running pool. Each must end in a clear error, promptly.

const fixtures = path.join(__dirname, '..', 'fixtures', 'tls');
const clients: DflockdClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
function newClient(options: ConstructorParameters<typeof DflockdClient>[0]): DflockdClient {
  const client = new DflockdClient(options);
  clients.push(client);
  return client;
}

describe('max-connections reached (the server accepts, then closes without a word)', () => {
  let server: TestServer;
  let occupier: net.Socket;
  beforeAll(async () => {
    server = await startServer({ maxConnections: 1 });
    // Occupy the one slot, and make sure the server counts it (its own stats say so).
    occupier = net.connect(server.port, '127.0.0.1');
    occupier.setEncoding('utf8');
    const first = await new Promise<string>((resolve, reject) => {
      occupier.once('data', resolve);
      occupier.once('error', reject);
      occupier.write('stats\n_\n\n');
    });
    expect(JSON.parse(first.slice(3))).toMatchObject({ connections: 1 });
  });
  afterAll(async () => {
    occupier.destroy();
    await server.stop();
  });

  test('a clear ConnectionError within a second, not a hang; nothing left open', async () => {
    const client = newClient({ servers: server.servers, connectTimeoutS: 5 });
    const startedAt = performance.now();
    const r = new Recorder(client.lock('maxconn'));
    const error = (await r.failure(6_000)) as ConnectionError;
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(r.events).toEqual([]);
    await client.close();
    await expectNoLeaks(server.port, new Set([occupier]));
  });
});

describe('a plain client against a TLS server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ tlsCert: path.join(fixtures, 'server.pem'), tlsKey: path.join(fixtures, 'server-key.pem') });
  });
  afterAll(() => server.stop());

  test('a ConnectionError within the connect timeout, not a hang', async () => {
    const client = newClient({ servers: server.servers, connectTimeoutS: 2 });
    const startedAt = performance.now();
    const r = new Recorder(client.lock('tls-plain'));
    const error = await r.failure(6_000);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(performance.now() - startedAt).toBeLessThan(2_000 + 1_000 + 500);
    expect(r.events).toEqual([]);
    await client.close();
    await expectNoLeaks(server.port);
  });
});

describe('the auth token rotated on the server while the client pool is in use', () => {
  test('held leases are lost (disconnected); the next acquisition fails with AuthError, not a hang or a retry loop', async () => {
    const before = await startServer({ authToken: 'token-A' });
    const port = before.port;
    let after: TestServer | undefined;
    try {
      const client = newClient({ servers: before.servers, authToken: 'token-A' });
      const held = new Recorder(client.lock('rot-held', { leaseTtlS: 30 }));
      await held.next('acquired');
      const quick = new Recorder(client.lock('rot-quick'));
      await quick.next('acquired');
      quick.unsubscribe(); // the pool now has a connection it would happily reuse

      await before.stop();
      expect(await held.next('lost')).toMatchObject({ reason: 'disconnected' });
      after = await startServer({ authToken: 'token-B' }, { port });

      const startedAt = performance.now();
      const refused = new Recorder(client.lock('rot-held'));
      const error = (await refused.failure(5_000)) as AuthError;
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe('error_auth');
      expect(error.message).toContain('authToken');
      expect(performance.now() - startedAt).toBeLessThan(2_000);
      expect(refused.events).toEqual([]);
      await client.close();
      await expectNoLeaks(port);
    } finally {
      await after?.stop();
      await before.stop();
    }
  });
});
