import * as net from 'node:net';
import { Subject } from 'rxjs';
import { Connection } from '../../lib/connection/connection';
import { ConnectionError, LineSocket, connectLineSocket } from '../../lib/index.js';
import { enqueueRequest, lockRequest, releaseRequest, waitRequest } from '../../lib/protocol/commands';
import type { Reply } from '../../lib/protocol/replies';
import type { DflockdError } from '../../lib/errors';
import { monotonicScheduler } from '../../lib/scheduler';

/** Connection settings with a fixed clock reading (timers still real, unreferenced). */
const at = (now: number, server = 'test:1') => ({ server, scheduler: { now: () => now, schedule: monotonicScheduler.schedule }, requestTimeoutMs: 10_000 });

/** A LineSocket of our own making, with no `listen`: the Connection must read it through lines$. */
function subjectSocket(): { socket: LineSocket; lines: Subject<string>; sent: string[] } {
  const lines = new Subject<string>();
  const sent: string[] = [];
  let open = true;
  const socket: LineSocket = {
    lines$: lines.asObservable(),
    remote: 'test:1',
    get open() {
      return open;
    },
    send: (text) => void sent.push(text),
    close: () => void (open = false),
    destroy: () => void (open = false),
    setKeepAlive: () => undefined,
  };
  return { socket, lines, sent };
}

type Outcome = { error: DflockdError | undefined; reply: Reply | undefined };

function outcome(): { promise: Promise<Outcome>; callback: (error: DflockdError | undefined, reply: Reply | undefined) => void } {
  let callback: (error: DflockdError | undefined, reply: Reply | undefined) => void = () => undefined;
  const promise = new Promise<Outcome>((resolve) => (callback = (error, reply) => resolve({ error, reply })));
  return { promise, callback };
}

describe('Connection.sendPair (an enqueue and its wait in one write)', () => {
  it('writes both requests in one send and answers them in order', async () => {
    const { socket, lines } = subjectSocket();
    const writes: string[] = [];
    socket.send = (text) => void writes.push(text);
    const conn = new Connection(socket, at(42));
    const first = outcome();
    const second = outcome();
    expect(conn.sendPair(enqueueRequest('k', 9), first.callback, waitRequest('k', 5), second.callback)).toBe(42);
    expect(writes).toEqual(['e\nk\n9\nw\nk\n5\n']);
    expect(conn.inFlight).toBe(2);
    lines.next('queued');
    lines.next('ok tok 9');
    expect(await first.promise).toEqual({ error: undefined, reply: { kind: 'queued' } });
    expect(await second.promise).toEqual({ error: undefined, reply: { kind: 'granted', token: 'tok', leaseS: 9 } });
    expect(conn.inFlight).toBe(0);
    conn.close();
  });

  it('on a closed connection, fails both (asynchronously) and writes nothing', async () => {
    const { socket, sent } = subjectSocket();
    const conn = new Connection(socket, at(0));
    conn.close();
    const first = outcome();
    const second = outcome();
    let sync = true;
    const calledSync: boolean[] = [];
    conn.sendPair(
      enqueueRequest('k'),
      (error, reply) => {
        calledSync.push(sync);
        first.callback(error, reply);
      },
      waitRequest('k', 5),
      (error, reply) => {
        calledSync.push(sync);
        second.callback(error, reply);
      },
    );
    sync = false;
    const all = await Promise.all([first.promise, second.promise]);
    expect(calledSync).toEqual([false, false]);
    for (const { error } of all) expect(error).toBeInstanceOf(ConnectionError);
    expect(sent).toEqual([]);
  });
});

describe('Connection over a LineSocket without the direct listener (lines$ path)', () => {
  it('matches replies to requests in order', async () => {
    const { socket, lines, sent } = subjectSocket();
    const conn = new Connection(socket, at(0));
    const first = outcome();
    const second = outcome();
    conn.send(lockRequest('k', 0), first.callback);
    conn.send(releaseRequest('k', 'tok'), second.callback);
    expect(sent).toEqual(['l\nk\n0\n', 'r\nk\ntok\n']);
    lines.next('ok tok 33');
    lines.next('ok');
    expect(await first.promise).toEqual({ error: undefined, reply: { kind: 'granted', token: 'tok', leaseS: 33 } });
    expect(await second.promise).toEqual({ error: undefined, reply: { kind: 'ok' } });
    conn.close();
  });

  it('fails what is pending when the lines end', async () => {
    const { socket, lines } = subjectSocket();
    const conn = new Connection(socket, at(0));
    const pending = outcome();
    conn.send(lockRequest('k', 5), pending.callback);
    lines.complete();
    const { error } = await pending.promise;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error!.message).toContain('closed by the server');
    expect(conn.open).toBe(false);
  });
});

describe('Connection over a socket from connectLineSocket', () => {
  let server: net.Server;
  let port: number;
  const peers = new Set<net.Socket>();

  beforeAll(async () => {
    // Answers every three-line request with `ok`.
    server = net.createServer((s) => {
      peers.add(s);
      s.on('close', () => peers.delete(s));
      let buffer = '';
      s.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const parts = buffer.split('\n');
        while (parts.length > 3) {
          parts.splice(0, 3);
          s.write('ok\n');
        }
        buffer = parts.join('\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of peers) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function openSocket(): Promise<{ socket: LineSocket; end: () => void }> {
    return new Promise((resolve, reject) => {
      const subscription = connectLineSocket({ host: '127.0.0.1', port }).subscribe({
        next: (socket) => resolve({ socket, end: () => subscription.unsubscribe() }),
        error: reject,
      });
    });
  }

  it('reads replies directly and still feeds lines$ subscribers', async () => {
    const { socket, end } = await openSocket();
    const seen: string[] = [];
    const subscription = socket.lines$.subscribe((line) => seen.push(line));
    const conn = new Connection(socket, at(0, socket.remote));
    const reply = outcome();
    conn.send(releaseRequest('k', 'tok'), reply.callback);
    expect(await reply.promise).toEqual({ error: undefined, reply: { kind: 'ok' } });
    expect(seen).toEqual(['ok']);
    subscription.unsubscribe();
    conn.close();
    end();
  });

  it('a socket already closed gives a closed connection whose requests fail', async () => {
    const { socket, end } = await openSocket();
    const ended = new Promise<void>((resolve) => socket.lines$.subscribe({ complete: resolve, error: () => resolve() }));
    for (const s of peers) s.destroy();
    await ended;
    const conn = new Connection(socket, at(0, socket.remote));
    expect(conn.open).toBe(false);
    const pending = outcome();
    conn.send(releaseRequest('k', 'tok'), pending.callback);
    expect((await pending.promise).error).toBeInstanceOf(ConnectionError);
    end();
  });
});

