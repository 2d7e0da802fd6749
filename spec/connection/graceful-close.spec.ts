import { firstValueFrom, lastValueFrom } from 'rxjs';
import type { Connection } from '../../lib/connection/connection';
import { openConnection } from '../../lib/connection/open-connection';
import { lock } from '../../lib/commands';
import { connectLineSocket } from '../../lib/transport/line-socket';
import type { Request } from '../../lib/protocol/commands';
import { releaseRequest } from '../../lib/protocol/commands';
import { FaultProxy } from '../../lib/testing/index';
import { TestServer, eventually, startServer } from '../helpers/server';

// Closing is graceful: what was written before close() reaches the server even when it cannot
// leave at once (the send buffer full behind a paused network), because the socket is ended,
// not destroyed, until the grace period runs out. The server does not auto-release on
// disconnect here, so a lost `r` would leave the lock held for its whole 60 s lease.

/** A request the server answers with `error` and keeps the connection: 3 lines of ~250 bytes. */
const FILLER: Request = { name: 'ping', verb: 'zz', key: 'k'.repeat(250), arg: 'a'.repeat(250), expect: 'ok', blocking: false };
/** ~6 MB: the kernel's buffers on loopback took ~4 MB before Node began to queue writes (measured); the rest waits in Node. */
const FILLER_COUNT = 12_000;

let server: TestServer;
let proxy: FaultProxy;

beforeAll(async () => {
  server = await startServer({ autoReleaseOnDisconnect: false });
  proxy = new FaultProxy({ target: { port: server.port } });
  await proxy.start();
});

afterAll(async () => {
  await proxy.stop();
  await server.stop();
});

const heldKeys = async (): Promise<string[]> => (await server.stats()).locks.filter((l) => l.owner_conn_id !== 0).map((l) => l.key);

test('Connection.close(): a release written behind a full send buffer still reaches the server once the network resumes', async () => {
  const conn: Connection = await firstValueFrom(openConnection({ host: '127.0.0.1', port: proxy.port, connectTimeoutS: 5, requestTimeoutMs: 60_000 }));
  const grant = await lastValueFrom(lock(conn, 'gc-conn', { acquireTimeoutS: 0, leaseTtlS: 60 }));
  expect(await heldKeys()).toContain('gc-conn');

  proxy.pause();
  for (let i = 0; i < FILLER_COUNT; i++) conn.send(FILLER, () => undefined);
  const released: Array<string | undefined> = [];
  conn.send(releaseRequest('gc-conn', grant.token), (error) => released.push(error?.code));
  conn.close();
  // Pending requests fail at once (their replies are no longer read), the bytes are still on their way.
  await Promise.resolve();
  expect(released).toEqual(['CONNECTION_CLOSED']);
  expect(conn.open).toBe(false);

  // Longer than the old destroy-after-end took (well under a millisecond), shorter than the grace period.
  await new Promise((resolve) => setTimeout(resolve, 100));
  proxy.resume();
  await eventually(async () => !(await heldKeys()).includes('gc-conn'), 'the release written before close() reached the server', 150, 20);
});

test('LineSocket.close(): unsubscribing right after close() does not destroy the closing socket', async () => {
  const { port } = proxy;
  // Raw lines only (no Connection reading them): the filler's 12,000 `error` replies are ignored.
  const token = await new Promise<string>((resolve, reject) => {
    const sub = connectLineSocket({ host: '127.0.0.1', port }).subscribe({
      next: (socket) => {
        socket.lines$.subscribe((line) => {
          const grant = /^ok (\S+) 60$/.exec(line);
          if (grant === null) return;
          proxy.pause();
          socket.send(`${FILLER.verb}\n${FILLER.key}\n${FILLER.arg}\n`.repeat(FILLER_COUNT));
          socket.send(`r\ngc-socket\n${grant[1]}\n`);
          socket.close();
          sub.unsubscribe();
          resolve(grant[1]!);
        });
        socket.send('l\ngc-socket\n0 60\n');
      },
      error: reject,
    });
  });
  expect(token).toMatch(/^[0-9a-f]{32}$/);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await heldKeys()).toContain('gc-socket');
  proxy.resume();
  await eventually(async () => !(await heldKeys()).includes('gc-socket'), 'the release written before close() reached the server', 150, 20);
});

test('destroy() stays immediate: the server sees the connection go at once', async () => {
  const conn = await firstValueFrom(openConnection({ host: '127.0.0.1', port: server.port, connectTimeoutS: 5 }));
  const before = (await server.stats()).connections;
  conn.destroy('test');
  expect(conn.open).toBe(false);
  await eventually(async () => (await server.stats()).connections < before, 'the server saw the destroyed connection close');
});
