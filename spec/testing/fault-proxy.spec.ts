import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmptyError, firstValueFrom } from 'rxjs';
import { FaultProxy, type FaultConnection, type FaultProxyOptions } from '../../lib/testing/fault-proxy';

/** Window for "nothing arrives": short, because every such test pays it. */
const QUIET_MS = 150;

/** A socket plus what it has received and how it ended. */
class Peer {
  bytes = 0;
  readonly ended: Promise<void>;
  readonly closed: Promise<NodeJS.ErrnoException | undefined>;
  private readonly chunks: Buffer[] = [];
  private readonly listeners = new Set<() => void>();
  private isClosed = false;

  constructor(readonly socket: net.Socket) {
    let error: NodeJS.ErrnoException | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e));
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      this.notify();
    });
    this.ended = new Promise((resolve) => socket.once('end', resolve));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.notify();
        resolve(error);
      }),
    );
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get text(): string {
    return this.data.toString('utf8');
  }

  /** Resolves once `text` has been received in full; fails fast if the socket closes first. */
  until(text: string, timeoutMs = 5_000): Promise<void> {
    return this.waitUntil(
      () => this.text.includes(text),
      () => `closed before receiving ${JSON.stringify(text)}; got ${JSON.stringify(this.text)}`,
      () => `no ${JSON.stringify(text)} within ${timeoutMs} ms; got ${JSON.stringify(this.text)}`,
      timeoutMs,
    );
  }

  /** Resolves once at least `n` bytes have been received. */
  untilBytes(n: number, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(
      () => this.bytes >= n,
      () => `closed after ${this.bytes} of ${n} bytes`,
      () => `${this.bytes} of ${n} bytes within ${timeoutMs} ms`,
      timeoutMs,
    );
  }

  /** Resolves once `reached()` holds, checked on every chunk; rejects if the socket closes first or after `timeoutMs`. */
  private waitUntil(reached: () => boolean, closedMessage: () => string, timeoutMessage: () => string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (reached()) done(undefined);
        else if (this.isClosed) done(new Error(closedMessage()));
      };
      const timer = setTimeout(() => done(new Error(timeoutMessage())), timeoutMs);
      const done = (error: Error | undefined): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The one deliberate sleep: asserts that nothing arrives for `ms`. */
  async expectQuietFor(ms = QUIET_MS): Promise<void> {
    const before = this.bytes;
    await sleep(ms);
    expect(this.bytes).toBe(before);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

interface TestServer {
  readonly port: number;
  readonly peers: Peer[];
  /** The i-th accepted connection (0-based), once accepted. */
  peer(i: number): Promise<Peer>;
  close(): Promise<void>;
}

/**
 * A tiny server on 127.0.0.1: echoes what it reads and, unless `mirrorEnd` is
 * false, answers a FIN with a FIN.
 */
async function startServer({ echo = true, mirrorEnd = true } = {}): Promise<TestServer> {
  const peers: Peer[] = [];
  const waiters: (() => void)[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const p = new Peer(socket);
    if (echo) socket.on('data', (chunk) => socket.write(chunk));
    if (mirrorEnd) socket.on('end', () => socket.end());
    peers.push(p);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const peer = async (i: number): Promise<Peer> => {
    while (peers.length <= i) await new Promise<void>((resolve) => waiters.push(resolve));
    return peers[i]!;
  };
  const close = async (): Promise<void> => {
    for (const p of peers) p.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: (server.address() as net.AddressInfo).port, peers, peer, close };
}

async function connect(port: number, { allowHalfOpen = false } = {}): Promise<Peer> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen });
  const p = new Peer(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return p;
}

/** Round-trip time of one line through an echo. */
async function roundTrip(client: Peer, line: string): Promise<number> {
  const t0 = performance.now();
  client.socket.write(line);
  await client.until(line);
  return performance.now() - t0;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  serverOptions: Parameters<typeof startServer>[0] = {},
  proxyOptions: Partial<FaultProxyOptions> = {},
): Promise<{ server: TestServer; proxy: FaultProxy; port: number }> {
  const server = await startServer(serverOptions);
  cleanups.push(() => server.close());
  const proxy = new FaultProxy({ target: { host: '127.0.0.1', port: server.port }, ...proxyOptions });
  cleanups.push(() => proxy.stop());
  const port = await proxy.start();
  return { server, proxy, port };
}

/** Connects a client through the proxy; resolves with both ends of the proxied pair. */
async function through(
  proxy: FaultProxy,
  server: TestServer,
  clientOptions: Parameters<typeof connect>[1] = {},
): Promise<{ client: Peer; connection: FaultConnection; upstream: Peer }> {
  const accepted = firstValueFrom(proxy.connection$);
  const client = await connect(proxy.port, clientOptions);
  cleanups.push(() => void client.socket.destroy());
  const connection = await accepted;
  const upstream = await server.peer(connection.id - 1);
  return { client, connection, upstream };
}

describe('FaultProxy options', () => {
  it.each([
    [{ target: { host: '10.0.0.1', port: 1 } }, /options\.target\.host.*"10\.0\.0\.1"/],
    [{ target: { host: 'example.com', port: 1 } }, /options\.target\.host/],
    [{ target: { host: '::', port: 1 } }, /options\.target\.host/],
    [{ target: { port: 1 }, host: '0.0.0.0' }, /options\.host.*loopback/],
    [{ target: { port: 1 }, host: '192.168.1.1' }, /options\.host/],
    [{ target: { port: 0 } }, /options\.target\.port/],
    [{ target: { port: 1 }, port: 70_000 }, /options\.port/],
    [{ target: { port: 1 }, maxQueuedBytes: 0 }, /options\.maxQueuedBytes/],
  ] as [FaultProxyOptions, RegExp][])('rejects %j', (options, message) => {
    expect(() => new FaultProxy(options)).toThrow(message);
  });

  it.each(['localhost', '127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])('accepts loopback host %s', (host) => {
    expect(() => new FaultProxy({ target: { host, port: 1 }, host })).not.toThrow();
  });

  it('rejects bad fault arguments, naming them', () => {
    const proxy = new FaultProxy({ target: { port: 1 } });
    expect(() => proxy.setLatency(-1)).toThrow(/setLatency\(ms\)/);
    expect(() => proxy.setLatency(Number.NaN)).toThrow(/setLatency\(ms\)/);
    expect(() => proxy.setLatency(1, { direction: 'up' as never })).toThrow(/direction/);
    expect(() => proxy.blackhole({ mode: 'lose' as never })).toThrow(/mode/);
    expect(() => proxy.halfClose('sideways' as never)).toThrow(/halfClose\(direction\)/);
  });

  it('knows its port only once started', async () => {
    const proxy = new FaultProxy({ target: { port: 1 } });
    expect(() => proxy.port).toThrow(/start\(\)/);
    const port = await proxy.start();
    expect(proxy.port).toBe(port);
    expect(await proxy.start()).toBe(port);
    await proxy.stop();
  });
});

describe('FaultProxy forwarding', () => {
  it('forwards both ways, counts bytes, and tracks the connection until it closes', async () => {
    const { server, proxy } = await setup();
    const { client, connection, upstream } = await through(proxy, server);
    expect(connection.id).toBe(1);
    expect(connection.clientSocket.remotePort).toBe(client.socket.localPort);
    expect(proxy.connections).toEqual([connection]);
    expect(proxy.activeConnections).toBe(1);

    client.socket.write('hello\n');
    await client.until('hello\n');
    expect(upstream.text).toBe('hello\n');
    expect(connection.bytesToServer).toBe(6);
    expect(connection.bytesToClient).toBe(6);

    client.socket.end(); // FIN travels through; the server answers with FIN
    await client.ended;
    await connection.closed;
    expect(connection.active).toBe(false);
    expect(proxy.activeConnections).toBe(0);
    expect(await client.closed).toBeUndefined();
  });

  it('delivers a large payload intact with the queue bounded', async () => {
    const maxQueuedBytes = 64 * 1024;
    const { server, proxy } = await setup({}, { maxQueuedBytes });
    proxy.setLatency(20);
    const { client, connection } = await through(proxy, server);
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
    let maxQueued = 0;
    client.socket.on('data', () => (maxQueued = Math.max(maxQueued, connection.queuedBytes)));
    client.socket.write(payload);
    await client.untilBytes(payload.length);
    expect(client.data.equals(payload)).toBe(true);
    // Per direction: the limit plus the one chunk (≤ 64 KiB) that crossed it.
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(2 * (maxQueuedBytes + 64 * 1024));
  });
});

describe('FaultProxy latency', () => {
  it('delays each direction by at least the configured time', async () => {
    const { server, proxy } = await setup();
    const { client } = await through(proxy, server);
    proxy.setLatency(100, { direction: 'toServer' });
    const toServer = await roundTrip(client, 'a\n');
    proxy.setLatency(0);
    proxy.setLatency(100, { direction: 'toClient' });
    const toClient = await roundTrip(client, 'b\n');
    proxy.setLatency(100);
    const both = await roundTrip(client, 'c\n');
    for (const t of [toServer, toClient]) {
      expect(t).toBeGreaterThanOrEqual(100);
      expect(t).toBeLessThan(1_100);
    }
    expect(both).toBeGreaterThanOrEqual(200);
    expect(both).toBeLessThan(1_200);
  });

  it('keeps byte order when the latency drops mid-stream', async () => {
    const { server, proxy } = await setup();
    const { client } = await through(proxy, server);
    proxy.setLatency(150, { direction: 'toServer' });
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}\n`);
    for (const line of lines.slice(0, 20)) client.socket.write(line);
    await sleep(20); // let the proxy read (and delay) the first half before the latency changes
    proxy.setLatency(0);
    for (const line of lines.slice(20)) client.socket.write(line);
    await client.until(lines.at(-1)!);
    expect(client.text).toBe(lines.join(''));
  });

  it('heal() removes the latency', async () => {
    const { server, proxy } = await setup();
    const { client, connection } = await through(proxy, server);
    proxy.setLatency(300);
    const slow = roundTrip(client, 'slow\n');
    proxy.heal(); // the chunk is not sent yet when healing: it takes the healed path
    expect(await slow).toBeLessThan(300);
    connection.setLatency(300);
    connection.heal();
    expect(await roundTrip(client, 'fast\n')).toBeLessThan(300);
  });
});

describe('FaultProxy black-hole', () => {
  it('holds bytes without closing anything; heal() delivers them, then new ones', async () => {
    const { server, proxy } = await setup();
    const { client, connection, upstream } = await through(proxy, server);
    proxy.blackhole();
    client.socket.write('during\n');
    await upstream.expectQuietFor();
    expect(client.bytes).toBe(0);
    expect(client.socket.destroyed).toBe(false);
    expect(upstream.socket.destroyed).toBe(false);
    expect(connection.active).toBe(true);

    proxy.heal();
    client.socket.write('after\n');
    await client.until('during\nafter\n');
    expect(upstream.text).toBe('during\nafter\n');
    expect(connection.bytesDropped).toBe(0);
  });

  it('stays bounded while holding: the proxy stops reading and the sender backs up', async () => {
    const { server, proxy } = await setup({}, { maxQueuedBytes: 64 * 1024 });
    const { client, connection, upstream } = await through(proxy, server);
    proxy.blackhole();
    const payload = Buffer.alloc(8 * 1024 * 1024, 0x61);
    client.socket.write(payload);
    await upstream.expectQuietFor();
    expect(connection.queuedBytes).toBe(0); // held in kernel and Node buffers, not in the proxy's queue
    expect(client.socket.writableLength).toBeGreaterThan(0);
    proxy.heal();
    await client.untilBytes(payload.length);
    expect(client.data.equals(payload)).toBe(true);
  });

  it("mode 'drop' discards bytes; after heal() only new ones flow", async () => {
    const { server, proxy } = await setup();
    const { client, connection, upstream } = await through(proxy, server);
    proxy.blackhole({ mode: 'drop' });
    client.socket.write('lost\n');
    await upstream.expectQuietFor();
    proxy.heal();
    await roundTrip(client, 'after\n');
    expect(upstream.text).toBe('after\n');
    expect(client.text).toBe('after\n');
    expect(connection.bytesDropped).toBe(5);
  });

  it('one direction only: requests arrive, replies do not', async () => {
    const { server, proxy } = await setup();
    const { client, upstream } = await through(proxy, server);
    proxy.blackhole({ direction: 'toClient' });
    client.socket.write('ping\n');
    await upstream.until('ping\n');
    await client.expectQuietFor();
    proxy.heal();
    await client.until('ping\n');
  });

  it("holds a peer's FIN and RST until heal(), like a partition", async () => {
    const { server, proxy } = await setup({ mirrorEnd: false });
    const first = await through(proxy, server);
    const second = await through(proxy, server);
    proxy.blackhole();
    first.client.socket.end();
    second.client.socket.resetAndDestroy();
    await sleep(QUIET_MS);
    expect(first.upstream.socket.readableEnded).toBe(false);
    expect(second.upstream.socket.destroyed).toBe(false);

    proxy.heal();
    await first.upstream.ended;
    expect((await second.upstream.closed)?.code).toBe('ECONNRESET');
  });

  it('applies to connections accepted later, until heal()', async () => {
    const { server, proxy } = await setup();
    proxy.blackhole();
    const { client, upstream } = await through(proxy, server);
    client.socket.write('x\n');
    await upstream.expectQuietFor();
    proxy.heal();
    await client.until('x\n');
  });
});

describe('FaultProxy closing faults', () => {
  it('reset(): both peers see ECONNRESET', async () => {
    const { server, proxy } = await setup();
    const { client, connection, upstream } = await through(proxy, server);
    proxy.reset();
    expect((await client.closed)?.code).toBe('ECONNRESET');
    expect((await upstream.closed)?.code).toBe('ECONNRESET');
    await connection.closed;
    expect(proxy.activeConnections).toBe(0);
  });

  it('drop(): both peers read EOF and close cleanly', async () => {
    const { server, proxy } = await setup({ mirrorEnd: false });
    const { client, connection, upstream } = await through(proxy, server);
    connection.drop();
    await Promise.all([client.ended, upstream.ended]);
    expect(await client.closed).toBeUndefined();
    await connection.closed;
    expect(proxy.activeConnections).toBe(0);
  });

  it("halfClose('toServer'): the server reads EOF, replies still flow, later requests are dropped", async () => {
    const { server, proxy } = await setup({ echo: false, mirrorEnd: false });
    const { client, connection, upstream } = await through(proxy, server);
    proxy.halfClose('toServer');
    await upstream.ended;
    upstream.socket.write('still here\n');
    await client.until('still here\n');
    expect(client.socket.readableEnded).toBe(false);
    client.socket.write('into the void\n');
    await upstream.expectQuietFor();
    expect(connection.bytesDropped).toBe('into the void\n'.length);
  });

  it("halfClose('toClient'): the client reads EOF, its writes still arrive", async () => {
    const { server, proxy } = await setup({ echo: false, mirrorEnd: false });
    const { client, connection, upstream } = await through(proxy, server, { allowHalfOpen: true });
    connection.halfClose('toClient');
    await client.ended;
    client.socket.write('request\n');
    await upstream.until('request\n');
    expect(upstream.socket.readableEnded).toBe(false);
  });

  it('refuseNew(): new clients are closed at once and never reach the server; open ones carry on', async () => {
    const { server, proxy } = await setup();
    const open = await through(proxy, server);
    const emitted: FaultConnection[] = [];
    const subscription = proxy.connection$.subscribe((c) => emitted.push(c));
    proxy.refuseNew(true);
    const refused = await connect(proxy.port);
    await refused.ended;
    expect(await refused.closed).toBeUndefined();

    proxy.refuseNew(true, { reset: true });
    // The RST may beat the client's own connect callback: either way the error is ECONNRESET.
    const reset = new Peer(net.connect({ port: proxy.port, host: '127.0.0.1' }));
    expect((await reset.closed)?.code).toBe('ECONNRESET');
    expect(emitted).toEqual([]);
    expect(server.peers).toHaveLength(1);
    await roundTrip(open.client, 'ok\n');

    proxy.refuseNew(false);
    subscription.unsubscribe();
    const again = await through(proxy, server);
    await roundTrip(again.client, 'back\n');
  });

  it('resets the client when the target refuses', async () => {
    const closed = await startServer();
    const deadPort = closed.port;
    await closed.close();
    const proxy = new FaultProxy({ target: { port: deadPort } });
    cleanups.push(() => proxy.stop());
    const emitted: FaultConnection[] = [];
    const subscription = proxy.connection$.subscribe((c) => emitted.push(c));
    const client = await connect(await proxy.start());
    expect((await client.closed)?.code).toBe('ECONNRESET');
    await Promise.all(proxy.connections.map((c) => c.closed));
    expect(proxy.activeConnections).toBe(0);
    expect(emitted).toEqual([]);
    subscription.unsubscribe();
  });
});

describe('FaultProxy per connection', () => {
  it('faults on one connection leave the others alone', async () => {
    const { server, proxy } = await setup();
    const a = await through(proxy, server);
    const b = await through(proxy, server);
    expect(proxy.connections.map((c) => c.id)).toEqual([1, 2]);

    a.connection.blackhole();
    a.client.socket.write('a\n');
    await roundTrip(b.client, 'b\n');
    await a.upstream.expectQuietFor();
    a.connection.heal();
    await a.client.until('a\n');

    b.connection.reset();
    expect((await b.client.closed)?.code).toBe('ECONNRESET');
    await roundTrip(a.client, 'a2\n');
    expect(proxy.connections).toEqual([a.connection]);
  });

  it('a proxy-wide call overrides per-connection faults on open connections', async () => {
    const { server, proxy } = await setup();
    const a = await through(proxy, server);
    a.connection.blackhole();
    proxy.setLatency(100);
    proxy.heal();
    await roundTrip(a.client, 'healed\n');
  });

  it('a fault set in the connection$ subscriber applies from the first byte', async () => {
    const { server, proxy } = await setup();
    const subscription = proxy.connection$.subscribe((c) => c.blackhole({ mode: 'drop' }));
    const socket = net.connect({ port: proxy.port, host: '127.0.0.1' });
    const client = new Peer(socket);
    cleanups.push(() => void socket.destroy());
    socket.write('early\n'); // written before the proxy has even connected upstream
    const upstream = await server.peer(0);
    await upstream.expectQuietFor();
    expect(proxy.connections[0]!.bytesDropped).toBe(6);
    expect(client.bytes).toBe(0);
    subscription.unsubscribe();
  });
});

describe('FaultProxy stop()', () => {
  it('closes the listener and every socket, clears delayed data, completes connection$; idempotent', async () => {
    const { server, proxy, port } = await setup();
    const a = await through(proxy, server);
    const b = await through(proxy, server);
    const completed = firstValueFrom(proxy.connection$);
    proxy.setLatency(10_000); // a pending timer stop() must clear
    a.client.socket.write('never\n');
    b.connection.blackhole();

    await Promise.all([proxy.stop(), proxy.stop()]);
    await expect(completed).rejects.toBeInstanceOf(EmptyError);
    await Promise.all([a.client.closed, b.client.closed, a.upstream.closed, b.upstream.closed]);
    expect(proxy.activeConnections).toBe(0);
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.stop();
    await expect(proxy.start()).rejects.toThrow(/after stop\(\)/);
  });

  it('stop() before start() resolves, and a stop() racing start() leaves nothing listening', async () => {
    const idle = new FaultProxy({ target: { port: 1 } });
    await idle.stop();
    const racing = new FaultProxy({ target: { port: 1 } });
    const started = racing.start();
    await racing.stop();
    await expect(connect(await started)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe("API.md's names: delay, pause/resume, halfClose()", () => {
  it('delay(ms) is setLatency(ms); pause() holds like blackhole(); resume() heals', async () => {
    const { server, proxy } = await setup();
    const { client, upstream, connection } = await through(proxy, server);
    proxy.delay(100);
    expect(await roundTrip(client, 'slow\n')).toBeGreaterThanOrEqual(200);
    proxy.resume();
    proxy.pause();
    client.socket.write('held\n');
    await upstream.expectQuietFor();
    expect(connection.active).toBe(true);
    proxy.resume();
    await client.until('slow\nheld\n');
    connection.pause();
    client.socket.write('again\n');
    await upstream.expectQuietFor();
    connection.resume();
    await client.until('slow\nheld\nagain\n');
  });

  it('halfClose() with no direction ends the client-to-server half', async () => {
    const { server, proxy } = await setup({ echo: false, mirrorEnd: false });
    const { client, upstream } = await through(proxy, server);
    proxy.halfClose();
    await upstream.ended;
    upstream.socket.write('still here\n');
    await client.until('still here\n');
  });
});
