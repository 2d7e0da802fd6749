import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuthError, ConnectionError, DflockdClient } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { TestServer, startServer } from '../helpers/server.js';

const fixtures = path.join(__dirname, '..', 'fixtures', 'tls');
const ca = fs.readFileSync(path.join(fixtures, 'ca.pem'));

describe('auth', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ authToken: 's3cret' });
  });
  afterAll(() => server.stop());

  test('the token is sent first on every connection', async () => {
    const client = new DflockdClient({ servers: server.servers, authToken: 's3cret' });
    const a = new Recorder(client.lock('auth-a'));
    await a.next('acquired');
    const b = new Recorder(client.lock('auth-a', { acquireTimeoutS: 5 }));
    await b.next('queued'); // a second, dedicated connection authenticated too
    a.unsubscribe();
    await b.next('acquired');
    b.unsubscribe();
    await client.close();
  });

  test('a wrong token fails the acquisition with AuthError', async () => {
    const client = new DflockdClient({ servers: server.servers, authToken: 'wrong' });
    const r = new Recorder(client.lock('auth-b'));
    const error = await r.failure();
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('error_auth');
    expect((error as Error).message).toContain('authToken');
    await client.close();
  });

  test('no token against a server that wants one fails with AuthError, not a hang', async () => {
    const client = new DflockdClient({ servers: server.servers });
    const r = new Recorder(client.lock('auth-c'));
    expect(await r.failure()).toBeInstanceOf(AuthError);
    await client.close();
  });
});

describe('a token against a server without auth', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.stop());

  test('is accepted: the server answers `error` to auth and that means no auth is needed', async () => {
    const client = new DflockdClient({ servers: server.servers, authToken: 'unused' });
    const r = new Recorder(client.lock('noauth'));
    await r.next('acquired');
    r.unsubscribe();
    await client.close();
  });
});

describe('TLS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ tlsCert: path.join(fixtures, 'server.pem'), tlsKey: path.join(fixtures, 'server-key.pem') });
  });
  afterAll(() => server.stop());

  test('with the CA, certificate verification on, the lock works', async () => {
    const client = new DflockdClient({ servers: server.servers, tls: { ca } });
    const r = new Recorder(client.lock('tls-a'));
    await r.next('acquired');
    r.unsubscribe();
    await client.close();
  });

  test('without the CA the handshake is refused: verification is on by default', async () => {
    const client = new DflockdClient({ servers: server.servers, tls: {} });
    const r = new Recorder(client.lock('tls-b'));
    const error = await r.failure();
    expect(error).toBeInstanceOf(ConnectionError);
    await client.close();
  });

  test('a plain client against the TLS port gets a ConnectionError, not a hang', async () => {
    const client = new DflockdClient({ servers: server.servers, connectTimeoutS: 3 });
    const r = new Recorder(client.lock('tls-c'));
    expect(await r.failure(8_000)).toBeInstanceOf(ConnectionError);
    await client.close();
  });
});
