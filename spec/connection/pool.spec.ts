import * as net from 'node:net';
import { firstValueFrom } from 'rxjs';
import type { Connection } from '../../lib/connection/connection';
import { PoolEvent, ServerPool } from '../../lib/connection/pool';
import { pingRequest } from '../../lib/protocol/commands';
import { monotonicScheduler } from '../../lib/scheduler';

/**
 * A server that accepts and never answers: requests stay in flight, so the pool's choice of
 * connection is seen without racing replies.
 */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('ServerPool: when shared connections multiply', () => {
  let server: Awaited<ReturnType<typeof silentServer>>;
  let pool: ServerPool;
  let connected: Array<() => void>;

  beforeEach(async () => {
    server = await silentServer();
    connected = [];
    pool = new ServerPool({
      host: '127.0.0.1',
      port: server.port,
      connectTimeoutS: 5,
      scheduler: monotonicScheduler,
      requestTimeoutMs: 60_000,
      idleMs: 60_000,
      maxShared: 16,
      onEvent: (event: PoolEvent) => {
        if (event.type === 'connected') connected.shift()?.();
      },
    });
  });

  afterEach(async () => {
    pool.close();
    await server.close();
  });

  /** Sends `n` requests through sharedNow(), as try-locks do, and returns the connections used. */
  const sendShared = (n: number): Connection[] => {
    const used: Connection[] = [];
    for (let i = 0; i < n; i++) {
      const conn = pool.sharedNow()!;
      conn.send(pingRequest(), () => undefined);
      used.push(conn);
    }
    return used;
  };
  const nextConnected = (): Promise<void> => new Promise((resolve) => connected.push(resolve));

  it('a lone connection carries up to 16 requests in flight; the 17th opens a second, which then carries up to 8', async () => {
    const first = await firstValueFrom(pool.shared());
    expect(sendShared(16).every((conn) => conn === first)).toBe(true);
    expect(first.inFlight).toBe(16);

    // The least busy connection has 16 in flight: this request still goes there, and a second opens.
    const opened = nextConnected();
    expect(sendShared(1)[0]).toBe(first);
    await opened;
    const second = pool.sharedNow()!;
    expect(second).not.toBe(first);
    expect(second.inFlight).toBe(0);

    // With two, each carries 8 before a third is opened.
    expect(sendShared(8).every((conn) => conn === second)).toBe(true);
    const third = nextConnected();
    expect(sendShared(1)[0]).toBe(second);
    await third;
    const fresh = pool.sharedNow()!;
    expect(fresh).not.toBe(first);
    expect(fresh).not.toBe(second);
    expect(fresh.inFlight).toBe(0);
  });

  it('never opens more than maxShared', async () => {
    const small = new ServerPool({ host: '127.0.0.1', port: server.port, connectTimeoutS: 5, scheduler: monotonicScheduler, requestTimeoutMs: 60_000, idleMs: 60_000, maxShared: 1, onEvent: () => undefined });
    try {
      const only = await firstValueFrom(small.shared());
      for (let i = 0; i < 40; i++) {
        const conn = small.sharedNow()!;
        expect(conn).toBe(only);
        conn.send(pingRequest(), () => undefined);
      }
      // Nothing was being opened: a connection opened now would be the pool's second.
      expect(await firstValueFrom(small.shared())).toBe(only);
    } finally {
      small.close();
    }
  });
});
