import * as net from 'node:net';
import { DflockdClient, LostEvent } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { TestServer, startServer } from '../helpers/server.js';

describe('the idle-timeout trap', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ readTimeout: 2 });
  });
  afterAll(() => server.stop());

  // The long version runs on virtual time (spec/lease/virtual-time.spec.ts); this one checks the real server keeps it.
  test('read timeout 2 s, lease 10 s: renewals at the heartbeat keep the lock past the read timeout', async () => {
    const client = new DflockdClient({ servers: server.servers, serverIdleTimeoutS: 2 });
    const r = new Recorder(client.lock('idle-trap', { leaseTtlS: 10 }));
    await r.next('acquired');
    // lease × ratio would be 5 s; the 2 s idle timeout forces renewals every 1.2 s (at most): three
    // of them span more than the 2 s after which the server would have dropped a silent holder.
    await r.count$('renewed', 3, 6_000);
    expect(r.count('lost')).toBe(0);
    const stats = await server.stats();
    expect(stats.locks.map((l) => l.key)).toContain('idle-trap');
    r.unsubscribe();
    await client.close();
  }, 15_000);
});

describe('lost', () => {
  test('when the server stops: lost(disconnected), then the stream completes', async () => {
    const server = await startServer();
    const client = new DflockdClient({ servers: server.servers });
    const r = new Recorder(client.lock('stop-held', { leaseTtlS: 30 }));
    await r.next('acquired');
    await server.stop();
    const lost = await r.next('lost');
    expect(lost).toMatchObject({ type: 'lost', key: 'stop-held', reason: 'disconnected' });
    expect(r.completed).toBe(true);
    await client.close();
  });

  test('lost$ reports the loss of any lease of the client', async () => {
    const server = await startServer();
    const client = new DflockdClient({ servers: server.servers });
    const losses: LostEvent[] = [];
    client.lost$.subscribe((e) => losses.push(e));
    const a = new Recorder(client.lock('lost-a'));
    const b = new Recorder(client.semaphore('lost-b', 2));
    await a.next('acquired');
    await b.next('acquired');
    await server.stop();
    await a.next('lost');
    await b.next('lost');
    expect(losses.map((l) => l.key).sort()).toEqual(['lost-a', 'lost-b']);
    await client.close();
  });
});

describe('sharding across three servers', () => {
  const servers: TestServer[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startServer());
  });
  afterAll(() => Promise.all(servers.map((s) => s.stop())));

  test('each key goes to the server stableHashShard picks', async () => {
    const client = new DflockdClient({ servers: servers.map((s) => `127.0.0.1:${s.port}`) });
    const keys = ['my-resource', 'user:42', 'orders'];
    const held = keys.map((k) => new Recorder(client.lock(k)));
    for (const r of held) await r.next('acquired');
    const stats = await Promise.all(servers.map((s) => s.stats()));
    expect(stats.map((s) => s.locks.map((l) => l.key))).toEqual([['my-resource'], ['user:42'], ['orders']]);
    expect(keys.map((k) => client.serverFor(k))).toEqual([0, 1, 2]);
    for (const r of held) r.unsubscribe();
    await client.close();
  });

  test('a custom strategy is used, and a bad result is an InvalidArgumentError', async () => {
    const client = new DflockdClient({ servers: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), shardingStrategy: () => 1 });
    const r = new Recorder(client.lock('anything'));
    await r.next('acquired');
    expect((await servers[1]!.stats()).locks.map((l) => l.key)).toContain('anything');
    r.unsubscribe();
    const bad = new DflockdClient({ servers: servers.map((s) => ['127.0.0.1', s.port] as [string, number]), shardingStrategy: () => 3 });
    const failed = new Recorder(bad.lock('k'));
    expect(await failed.failure()).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'shardingStrategy' });
    await client.close();
    await bad.close();
  });
});

describe('the process', () => {
  test('no socket or timer keeps it alive after close()', async () => {
    const server = await startServer();
    const client = new DflockdClient({ servers: server.servers });
    const r = new Recorder(client.lock('exit', { leaseTtlS: 5 }));
    await r.next('acquired');
    await client.close();
    // Every handle the client made is gone: only the server's own listener remains.
    const sockets = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof net.Socket && !(h as net.Socket).destroyed && (h as net.Socket).remotePort === server.port);
    expect(sockets).toEqual([]);
    await server.stop();
  });
});
