import * as net from 'node:net';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { openConnection } from '../../lib/connection/open-connection';
import { AuthError, ConnectTimeoutError, DflockdClient, stats } from '../../lib/index';
import { TestServer, startServer } from '../helpers/server';

// connectTimeoutS bounds TCP + TLS + auth; a refused token is an AuthError and its connection is
// never reused; no message names the placeholder key `_`.

/** Accepts, reads, never writes: an auth sent to it stalls. Tells when a socket closes. */
async function silentServer(): Promise<{ port: number; closed: () => Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const waiting: Array<() => void> = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
    socket.on('close', () => {
      sockets.delete(socket);
      waiting.shift()?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    closed: () => new Promise<void>((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('a stalled auth', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  beforeEach(async () => {
    silent = await silentServer();
  });
  afterEach(() => silent.close());

  it('fails with ConnectTimeoutError after connectTimeoutS, and the socket is closed', async () => {
    const closed = silent.closed();
    const started = performance.now();
    const error = await firstValueFrom(openConnection({ host: '127.0.0.1', port: silent.port, authToken: 's3cret', connectTimeoutS: 0.3, requestTimeoutMs: 60_000 })).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as ConnectTimeoutError).code).toBe('CONNECT_TIMEOUT');
    expect((error as Error).message).toContain('connectTimeoutS=0.3');
    expect((error as Error).message).not.toContain('_');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3_000);
    await closed;
  });

  it('fails with ConnectTimeoutError too when the reply watchdog (requestTimeoutS) fires first', async () => {
    const started = performance.now();
    const error = await firstValueFrom(openConnection({ host: '127.0.0.1', port: silent.port, authToken: 's3cret', connectTimeoutS: 10, requestTimeoutMs: 300 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as ConnectTimeoutError).command).toBe('auth');
    expect((error as Error).message).toContain('requestTimeoutS=0.3');
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('client.stats() fails with ConnectTimeoutError instead of hanging', async () => {
    const client = new DflockdClient({ servers: [['127.0.0.1', silent.port]], authToken: 's3cret', connectTimeoutS: 0.3, requestTimeoutS: 5 });
    try {
      await expect(firstValueFrom(client.stats())).rejects.toBeInstanceOf(ConnectTimeoutError);
    } finally {
      await client.close();
    }
  });
});

describe('auth against a server with a token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ authToken: 'right' });
  });
  afterAll(() => server.stop());

  it('the right token: the connection is ready', async () => {
    const conn = await firstValueFrom(openConnection({ host: '127.0.0.1', port: server.port, authToken: 'right', connectTimeoutS: 5 }));
    expect((await lastValueFrom(stats(conn))).connections).toBeGreaterThanOrEqual(1);
    conn.close();
  });

  it('a refused token: AuthError naming the server and no placeholder; every later acquisition asks the server again and gets AuthError too', async () => {
    const client = new DflockdClient({ servers: server.servers, authToken: 'wrong', connectTimeoutS: 5 });
    const connected: string[] = [];
    client.events$.subscribe((e) => connected.push(e.type));
    try {
      for (let i = 0; i < 2; i++) {
        const error = await firstValueFrom(client.lock('auth-key', { acquireTimeoutS: 0 })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AuthError);
        expect((error as AuthError).code).toBe('error_auth');
        expect((error as AuthError).server).toBe(`127.0.0.1:${server.port}`);
        expect((error as Error).message).not.toMatch(/\b_\b/);
      }
      await expect(firstValueFrom(client.stats())).rejects.toBeInstanceOf(AuthError);
      // No connection that failed auth was ever handed out.
      expect(connected).not.toContain('connected');
    } finally {
      await client.close();
    }
  });
});
