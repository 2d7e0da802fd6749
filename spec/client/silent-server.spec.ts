import * as net from 'node:net';
import { AcquireTimeoutError, ConnectionError, DflockdClient, DistributedLock } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';

// A server that accepts connections and never answers: "nobody answers" is a connection failure,
// reported within requestTimeoutS — never "the lock is busy", never a hang.

let silent: net.Server;
let port: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

test.each([0, 10])('client.lock (acquireTimeoutS %i) fails with ConnectionError after requestTimeoutS', async (acquireTimeoutS) => {
  const client = new DflockdClient({ servers: [['127.0.0.1', port]], requestTimeoutS: 0.5 });
  try {
    const startedAt = performance.now();
    const r = new Recorder(client.lock('silent', { acquireTimeoutS }));
    const error = await r.failure(5_000);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(AcquireTimeoutError);
    expect((error as Error).message).toMatch(/requestTimeoutS=0\.5/);
    // One attempt: a connection the watchdog gave up on is not tried again.
    expect(performance.now() - startedAt).toBeLessThan(1_500);
    expect(r.events).toEqual([]);
  } finally {
    await client.close();
  }
});

test('the facade rejects (never resolves false) when nobody answers', async () => {
  const client = new DflockdClient({ servers: [['127.0.0.1', port]], requestTimeoutS: 0.5 });
  const lock = new DistributedLock('silent-facade', { client });
  try {
    await expect(lock.acquire()).rejects.toBeInstanceOf(ConnectionError);
  } finally {
    await client.close();
  }
});
