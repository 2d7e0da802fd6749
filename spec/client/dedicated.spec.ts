import { filter, firstValueFrom } from 'rxjs';
import { DflockdClient, type ClientEvent } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { eventually } from '../helpers/eventually.js';
import { TestServer, startServer } from '../helpers/server.js';

// dedicatedConnections: no two held leases on one socket.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const owners = async (keys: string[]): Promise<number[]> => {
  const stats = await server.stats();
  return keys.map((key) => stats.locks.find((l) => l.key === key)?.owner_conn_id ?? 0);
};

test.each([
  [false, 1],
  [true, 3],
])('dedicatedConnections %p: three held leases live on %i connection(s)', async (dedicatedConnections, connections) => {
  const client = new DflockdClient({ servers: server.servers, dedicatedConnections });
  const keys = ['d-a', 'd-b', 'd-c'].map((k) => `${k}-${String(dedicatedConnections)}`);
  try {
    const held = keys.map((key) => new Recorder(client.lock(key)));
    for (const r of held) await r.next('acquired');
    const ids = await owners(keys);
    expect(ids.every((id) => id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(connections);
    for (const r of held) r.unsubscribe();
    await eventually(async () => (await owners(keys)).every((id) => id === 0), 'all released', { timeoutMs: 2000 });
  } finally {
    await client.close();
  }
});

test('dedicatedConnections: a connection whose lease was released serves the next acquisition (no new connection)', async () => {
  const client = new DflockdClient({ servers: server.servers, dedicatedConnections: true });
  const connected: ClientEvent[] = [];
  client.events$.pipe(filter((e) => e.type === 'connected')).subscribe((e) => connected.push(e));
  try {
    for (let i = 0; i < 5; i++) {
      const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released')));
      const r = new Recorder(client.lock('d-reuse'));
      await r.next('acquired');
      r.unsubscribe();
      await released;
    }
    expect(connected).toHaveLength(1);
  } finally {
    await client.close();
  }
});
