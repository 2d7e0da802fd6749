import { AcquireTimeoutError, ConnectionError, DflockdClient, DistributedLock } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { SilentServer, startSilentServer } from '../helpers/silent-server.js';

// A server that accepts connections and never answers: "nobody answers" is a connection failure,
// reported within requestTimeoutS — never "the lock is busy", never a hang.

let silent: SilentServer;
let port: number;

beforeAll(async () => {
  silent = await startSilentServer();
  port = silent.port;
});
afterAll(() => silent.close());

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
