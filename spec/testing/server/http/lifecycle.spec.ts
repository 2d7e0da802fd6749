// The HTTP listener's life cycle and options: off unless httpPort is given,
// validated like the other options, closed with every session on stop, and
// draining (503) during a graceful stop. Each test starts and stops its own
// server, as the TCP shutdown spec does, because the life cycle is the subject.
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { DflockdTestServer, type DflockdTestServerOptions } from '../../../../lib/testing/server/test-server';
import { eventually } from '../../../helpers/eventually';
import { RawClient, grant } from '../../../helpers/raw-client';
import { call } from './http-fixture';

const running: DflockdTestServer[] = [];
afterEach(async () => {
  await RawClient.closeAll();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function started(options: DflockdTestServerOptions = {}): Promise<DflockdTestServer> {
  const server = new DflockdTestServer({ port: 0, httpPort: 0, ...options });
  running.push(server);
  await server.start();
  return server;
}

// A raw connect: fetch could pick a pooled socket the server just closed.
const refused = (url: string) =>
  new Promise<string | undefined>((resolve) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });

describe('options', () => {
  test.each<[string, DflockdTestServerOptions, RegExp]>([
    ['httpPort -1', { httpPort: -1 }, /httpPort must be >= 0/],
    ['httpPort 65536', { httpPort: 65536 }, /httpPort must be an integer <= 65535/],
    ['httpPort 1.5', { httpPort: 1.5 }, /httpPort must be an integer/],
    ['httpPort "80"', { httpPort: '80' as unknown as number }, /httpPort must be an integer/],
    ['httpHost ""', { httpHost: '' }, /httpHost must be a non-empty string/],
    ['httpCorsAllowedOrigins "a b"', { httpCorsAllowedOrigins: 'https://a https://b' }, /httpCorsAllowedOrigins must be '\*', an array of origins .* or one string of them separated by commas/],
    ['httpCorsAllowedOrigins [""]', { httpCorsAllowedOrigins: [''] }, /httpCorsAllowedOrigins/],
    ['httpCorsAllowedOrigins ["a,b"]', { httpCorsAllowedOrigins: ['https://a,https://b'] }, /httpCorsAllowedOrigins/],
    ['httpCorsAllowedOrigins [1]', { httpCorsAllowedOrigins: [1 as unknown as string] }, /httpCorsAllowedOrigins/],
    ['httpSessionIdleTimeout 0', { httpSessionIdleTimeout: 0 }, /httpSessionIdleTimeout must be > 0/],
    ['httpSessionIdleTimeout NaN', { httpSessionIdleTimeout: NaN }, /httpSessionIdleTimeout must be a finite number/],
    ['compat 1.10 with httpPort', { httpPort: 0, compat: '1.10' } as DflockdTestServerOptions, /httpPort needs compat '2.1'/],
  ])('%s is refused, naming the option', (_what, options, message) => {
    expect(() => new DflockdTestServer(options)).toThrow(message);
  });

  test('defaults: no HTTP listener; host 127.0.0.1, idle timeout 20 s, CORS off', () => {
    const server = new DflockdTestServer({ port: 0 });
    expect(server.options).toEqual(expect.objectContaining({ httpPort: undefined, httpHost: '127.0.0.1', httpSessionIdleTimeout: 20, httpCorsAllowedOrigins: [] }));
    expect(server.httpPort).toBeUndefined();
    expect(server.httpUrl).toBeUndefined();
  });

  test('httpHost follows host unless given', () => {
    expect(new DflockdTestServer({ host: '::1' }).options.httpHost).toBe('::1');
    expect(new DflockdTestServer({ host: '::1', httpHost: '127.0.0.1' }).options.httpHost).toBe('127.0.0.1');
  });

  test('a fractional idle timeout is reported as configured', async () => {
    const server = await started({ httpSessionIdleTimeout: 0.5 });
    expect((await call(server.httpUrl!, 'POST', '/v1/sessions')).json.idle_timeout_s).toBe(0.5);
  });
});

describe('start and stop', () => {
  test('httpPort reads the bound port; stop closes the listener and every session; a restart starts empty', async () => {
    const server = await started();
    expect(server.httpPort).toBeGreaterThan(0);
    expect(server.httpPort).not.toBe(server.port);
    const url = server.httpUrl!;
    expect(url).toBe(`http://127.0.0.1:${server.httpPort}`);
    const s = (await call(url, 'POST', '/v1/sessions')).json.session_id as string;
    expect(server.httpSessionCount).toBe(1);
    await server.stop();
    expect(server.httpSessionCount).toBe(0);
    expect(await refused(url)).toBe('ECONNREFUSED');
    await server.start();
    const again = server.httpUrl!;
    expect((await call(again, 'POST', `/v1/sessions/${s}/ping`)).status).toBe(410);
  });

  test('a long poll in flight at stop() is answered 503 draining and stop resolves', async () => {
    const server = await started();
    const s = (await call(server.httpUrl!, 'POST', '/v1/sessions')).json.session_id as string;
    const t = (await call(server.httpUrl!, 'POST', '/v1/sessions')).json.session_id as string;
    await call(server.httpUrl!, 'POST', '/v1/locks/k', { session: s, body: {} });
    const poll = call(server.httpUrl!, 'POST', '/v1/locks/k', { session: t, body: { acquire_timeout_s: 30 } });
    await eventually(() => server.blockedCount === 1, 'the long poll', { timeoutMs: 2000, everyMs: 5 });
    await server.stop();
    const r = await poll;
    expect([r.status, r.json.error]).toEqual([503, 'draining']);
  });

  test('an HTTP port in use fails start() and leaves nothing bound', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    try {
      const server = new DflockdTestServer({ port: 0, httpPort: taken });
      running.push(server);
      await expect(server.start()).rejects.toThrow(/EADDRINUSE/);
      expect(server.listening).toBe(false);
      // Startable again once the port is free.
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      await server.start();
      expect(server.httpPort).toBe(taken);
    } finally {
      if (squatter.listening) squatter.close();
    }
  });
});

describe('TLS', () => {
  test('with tlsCert and tlsKey the HTTP API is served over TLS too (https URL)', async () => {
    const fixtures = path.join(__dirname, '..', '..', '..', 'fixtures', 'tls');
    const server = await started({ tlsCert: path.join(fixtures, 'server.pem'), tlsKey: path.join(fixtures, 'server-key.pem') });
    expect(server.httpUrl).toBe(`https://127.0.0.1:${server.httpPort}`);
    const ca = fs.readFileSync(path.join(fixtures, 'ca.pem'));
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${server.httpUrl}/health`, { ca, agent: false }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        })
        .on('error', reject);
    });
    expect(body).toBe('200 {"status":"ok"}');
  });
});

describe('graceful stop', () => {
  test('/ready is 503 draining, lock calls and new sessions 503 draining, a blocked poll too; /health stays 200', async () => {
    const server = await started({ shutdownTimeout: 10 });
    const url = server.httpUrl!;
    const tcp = await RawClient.connect(server.port);
    const held = grant(await tcp.request('l', 'k', '0'));
    const s = (await call(url, 'POST', '/v1/sessions')).json.session_id as string;
    const poll = call(url, 'POST', '/v1/locks/k', { session: s, body: { acquire_timeout_s: 30 } });
    await eventually(() => server.blockedCount === 1, 'the long poll', { timeoutMs: 2000, everyMs: 5 });
    // The TCP connection keeps the drain going until it leaves.
    const stopped = server.stop({ graceful: true });
    const blocked = await poll;
    expect([blocked.status, blocked.json.error]).toEqual([503, 'draining']);
    const ready = await call(url, 'GET', '/ready');
    expect([ready.status, ready.json]).toEqual([503, { status: 'draining' }]);
    expect((await call(url, 'GET', '/health')).status).toBe(200);
    expect((await call(url, 'GET', '/metrics')).text).toMatch(/^dflockd_ready 0$/m);
    for (const [path, body] of [['/v1/locks/other', {}], [`/v1/locks/k/release`, { token: held.token }]] as const) {
      const r = await call(url, 'POST', path, { session: s, body });
      expect([r.status, r.json.error]).toEqual([503, 'draining']);
    }
    expect((await call(url, 'POST', '/v1/sessions')).json.error).toBe('draining');
    expect((await call(url, 'POST', `/v1/sessions/${s}/ping`)).status).toBe(204);
    await tcp.destroy();
    await stopped;
    expect(await refused(url)).toBe('ECONNREFUSED');
  });
});

describe('autoReleaseOnDisconnect: false', () => {
  test('a deleted or reaped session still drops its waiters but keeps its holds (until their lease ends)', async () => {
    const server = await started({ autoReleaseOnDisconnect: false, httpSessionIdleTimeout: 0.1 });
    const url = server.httpUrl!;
    const [a, b] = await Promise.all([0, 1].map(async () => (await call(url, 'POST', '/v1/sessions')).json.session_id as string));
    const held = await call(url, 'POST', '/v1/locks/kept', { session: a!, body: { lease_ttl_s: 30 } });
    expect((await call(url, 'POST', '/v1/locks/kept/enqueue', { session: b! })).json.status).toBe('queued');
    expect((await call(url, 'DELETE', `/v1/sessions/${b}`)).status).toBe(204);
    await eventually(() => server.httpSessionCount === 0, 'the idle session to be reaped', { timeoutMs: 2000, everyMs: 5 });
    const lock = server.stats().locks.find((l) => l.key === 'kept');
    expect(lock).toEqual(expect.objectContaining({ waiters: 0 }));
    expect(lock!.lease_expires_in_s).toBeGreaterThan(25);
    // The token still works from anywhere.
    const tcp = await RawClient.connect(server.port);
    expect(await tcp.request('r', 'kept', held.json.token)).toBe('ok');
  });
});
