// PROTOCOL.md §1.13 (graceful shutdown, "Shutdown" transcript of §1.14) and the
// start/stop life cycle of DflockdTestServer.
import * as net from 'node:net';
import { DflockdTestServer } from '../../../lib/testing/server/test-server';
import { eventually } from '../../helpers/eventually';
import { RawClient, grant } from '../../helpers/raw-client';

afterEach(() => RawClient.closeAll());

function refused(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

// v1.10.0 serves existing connections during the drain (2.1 answers error_draining: compat.spec.ts).
describe('graceful stop (§1.13)', () => {
  test('transcript: blocked requests get error, new connections are refused, existing ones are served until force-closed', async () => {
    const server = new DflockdTestServer({ compat: '1.10', port: 0, shutdownTimeout: 2, readTimeout: 20, leaseSweepInterval: 0.1 });
    const port = await server.start();
    const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port)));
    const k = grant(await a!.request('l', 'k', '0'));
    grant(await a!.request('l', 'short', '0 1'));
    b!.send('l\nk\n60\n');
    expect(await c!.request('e', 'k', '')).toBe('queued');
    c!.send('w\nk\n60\n');
    await eventually(() => server.blockedCount === 2, 'two blocked requests', { timeoutMs: 2000, everyMs: 5 });

    const started = Date.now();
    const stopped = server.stop({ graceful: true });
    expect(await b!.line()).toBe('error');
    expect(await c!.line()).toBe('error');
    expect(Date.now() - started).toBeLessThan(200);
    expect(await refused(port)).toBe('ECONNREFUSED');

    expect(await a!.request('n', 'k', k.token)).toBe('ok 33');
    expect(await d!.request('l', 'free', '0 1')).toMatch(/^ok [0-9a-f]{32} 1$/);
    expect(await b!.request('l', 'k', '0')).toBe('timeout');
    expect(await b!.request('l', 'k', '5')).toBe('error');
    expect(await c!.request('w', 'k', '5')).toBe('error_not_enqueued');

    // The sweep has stopped: the 1 s lease ends but stays held.
    await eventually(() => server.stats().locks.find((l) => l.key === 'short')?.lease_expires_in_s === 0, 'expiry', { timeoutMs: 2000, everyMs: 5 });
    await new Promise((r) => setTimeout(r, 250));
    expect(server.stats().locks.map((l) => l.key)).toContain('short');

    await Promise.all([a, b, c, d].map((x) => x!.eof(3000))); // force-closed at the shutdown timeout
    await stopped;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(server.listening).toBe(false);
  });

  test('resolves as soon as the last client leaves', async () => {
    const server = new DflockdTestServer({ compat: '1.10', port: 0, shutdownTimeout: 30 });
    const port = await server.start();
    const a = await RawClient.connect(port);
    await eventually(() => server.connectionCount === 1, 'the connection', { timeoutMs: 2000, everyMs: 5 });
    const stopped = server.stop({ graceful: true });
    expect(await a.request('stats', '', '')).toMatch(/^ok /);
    await a.destroy();
    await stopped;
  });

  test('a fast stop during a graceful one closes everything at once', async () => {
    const server = new DflockdTestServer({ port: 0, shutdownTimeout: 30 });
    const port = await server.start();
    const a = await RawClient.connect(port);
    await eventually(() => server.connectionCount === 1, 'the connection', { timeoutMs: 2000, everyMs: 5 });
    const graceful = server.stop({ graceful: true });
    const fast = server.stop();
    await a.eof();
    await Promise.all([graceful, fast]);
  });
});

describe('fast stop (default)', () => {
  test('blocked requests get error, every connection is closed, and stop() resolves promptly', async () => {
    const server = new DflockdTestServer({ port: 0 });
    const port = await server.start();
    const [a, b] = await Promise.all([RawClient.connect(port), RawClient.connect(port)]);
    grant(await a.request('l', 'k', '0'));
    b.send('l\nk\n60\n');
    await eventually(() => server.blockedCount === 1, 'b to block', { timeoutMs: 2000, everyMs: 5 });
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await b.line()).toBe('error');
    await b.eof();
    await a.eof();
    expect(await refused(port)).toBe('ECONNREFUSED');
  });
});

describe('life cycle', () => {
  test('stop() before start() and twice is harmless; start() while running throws', async () => {
    const server = new DflockdTestServer({ port: 0 });
    await server.stop();
    await server.start();
    await expect(server.start()).rejects.toThrow(/while running/);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
  });

  test('stop() right after start() (without awaiting it) still stops the server', async () => {
    const server = new DflockdTestServer({ port: 0 });
    const started = server.start();
    await server.stop();
    const port = await started;
    expect(server.listening).toBe(false);
    expect(await refused(port)).toBe('ECONNREFUSED');
  });

  test('a restart begins with empty state (old tokens are unknown)', async () => {
    const server = new DflockdTestServer({ port: 0 });
    let port = await server.start();
    const a = await RawClient.connect(port);
    const { token } = grant(await a.request('l', 'k', '0'));
    await server.stop();
    port = await server.start();
    const b = await RawClient.connect(port);
    expect(await b.request('r', 'k', token)).toBe('error');
    expect(server.stats()).toEqual({ connections: 1, locks: [], semaphores: [], idle_locks: [], idle_semaphores: [] });
    await server.stop();
  });

  test('a port in use makes start() reject', async () => {
    const first = new DflockdTestServer({ port: 0 });
    const port = await first.start();
    const second = new DflockdTestServer({ port });
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    expect(second.listening).toBe(false);
    await first.stop();
  });

  test('port, host, address and connectionCount describe the listener', async () => {
    const server = new DflockdTestServer({ port: 0 });
    expect(server.port).toBe(0);
    const port = await server.start();
    expect(server.port).toBe(port);
    expect(server.host).toBe('127.0.0.1');
    expect(server.address).toBe(`127.0.0.1:${port}`);
    expect(server.connectionCount).toBe(0);
    expect(server.tls).toBe(false);
    await server.stop();
  });
});
