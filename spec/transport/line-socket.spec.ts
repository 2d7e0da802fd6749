import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { firstValueFrom, take, toArray } from 'rxjs';
import { ConnectTimeoutError, ConnectionError, LineSocket, ProtocolError, connectLineSocket } from '../../lib/index.js';

const fixtures = path.join(__dirname, '..', 'fixtures', 'tls');
const read = (name: string): Buffer => fs.readFileSync(path.join(fixtures, name));

/** A line server for these tests: answers every line with `echo <line>`; can also send raw bytes. */
function lineServer(onSocket: (socket: net.Socket) => void = () => undefined, secure = false): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const handle = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        socket.write(`echo ${buffer.slice(0, nl)}\n`);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
      }
    });
    onSocket(socket);
  };
  const server = secure ? tls.createServer({ cert: read('server.pem'), key: read('server-key.pem') }, handle) : net.createServer(handle);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        sockets,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/**
 * Opens a socket and keeps the subscription: the socket lives exactly as long as it (so
 * `firstValueFrom(connectLineSocket(…))` would hand back an already-destroyed socket).
 */
function open(options: Parameters<typeof connectLineSocket>[0]): Promise<LineSocket> {
  return new Promise((resolve, reject) => {
    connectLineSocket(options).subscribe({ next: resolve, error: reject });
  });
}

test('the socket lives as long as the subscription: taking the first emission closes it', async () => {
  const server = await lineServer();
  const socket = await firstValueFrom(connectLineSocket({ host: '127.0.0.1', port: server.port }));
  expect(socket.open).toBe(false);
  await server.close();
});

test('connects, sends, and decodes the replies as lines', async () => {
  const server = await lineServer();
  const socket = await open({ host: '127.0.0.1', port: server.port });
  const lines = firstValueFrom(socket.lines$.pipe(take(3), toArray()));
  socket.send('a\nb\n');
  socket.send('c\n');
  expect(await lines).toEqual(['echo a', 'echo b', 'echo c']);
  socket.close();
  await server.close();
});

test('texts sent in one tick leave in one write, in order; the next tick writes again', async () => {
  const received: string[] = [];
  let gotFirst: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (gotFirst = resolve));
  const server = await lineServer((s) =>
    s.on('data', (chunk: Buffer) => {
      received.push(chunk.toString('utf8'));
      gotFirst();
    }),
  );
  const socket = await open({ host: '127.0.0.1', port: server.port });
  const lines = firstValueFrom(socket.lines$.pipe(take(5), toArray()));
  socket.send('a\n');
  socket.send('b\n');
  socket.send('c\n');
  await first;
  // One writev for the tick: the server read all three in one chunk.
  expect(received).toEqual(['a\nb\nc\n']);
  socket.send('d\n');
  socket.send('e\n');
  expect(await lines).toEqual(['echo a', 'echo b', 'echo c', 'echo d', 'echo e']);
  expect(received.join('')).toBe('a\nb\nc\nd\ne\n');
  socket.close();
  await server.close();
});

test('a line split across reads survives the read buffer being reused for the next read', async () => {
  const big = 'x'.repeat(100_000);
  // No echo here: the server writes only what the test scripts.
  const peers = new Set<net.Socket>();
  const server = net.createServer((s) => {
    peers.add(s);
    s.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      // One write: the client reads `hello` and the start of the next line together.
      if (text.includes('start')) s.write('hello\nok 1');
      // Then a read longer than the buffer, which overwrites the bytes `ok 1` came in.
      if (text.includes('go')) s.write(`23\n${big}\nqueued\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = await open({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  const lines: string[] = [];
  const done = new Promise<void>((resolve) =>
    socket.lines$.subscribe((line) => {
      lines.push(line);
      if (line === 'hello') socket.send('go\n');
      if (line === 'queued') resolve();
    }),
  );
  socket.send('start\n');
  await done;
  expect(lines.map((l) => (l === big ? '<the 100,000-byte line>' : l))).toEqual(['hello', 'ok 123', '<the 100,000-byte line>', 'queued']);
  socket.close();
  for (const s of peers) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('close() in the same tick as send() still delivers what was sent', async () => {
  let gotAll: (text: string) => void = () => undefined;
  const all = new Promise<string>((resolve) => (gotAll = resolve));
  const server = await lineServer((s) => {
    let text = '';
    s.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    s.on('end', () => gotAll(text));
  });
  const socket = await open({ host: '127.0.0.1', port: server.port });
  socket.send('r\nk\ntoken\n');
  socket.close();
  expect(await all).toBe('r\nk\ntoken\n');
  await server.close();
});

test('connection refused → ConnectionError naming the server', async () => {
  const server = await lineServer();
  const port = server.port;
  await server.close();
  const error = await open({ host: '127.0.0.1', port }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectionError);
  expect((error as ConnectionError).code).toBe('CONNECTION_CLOSED');
  expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  expect((error as Error).message).toContain('ECONNREFUSED');
});

test('a TLS server that never finishes the handshake → ConnectTimeoutError after connectTimeoutS', async () => {
  // A plain TCP server that accepts and stays silent: the TLS handshake can never complete.
  const silent = net.createServer((s) => s.on('error', () => undefined).resume());
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (silent.address() as net.AddressInfo).port;
  const started = performance.now();
  const error = await open({ host: '127.0.0.1', port, tls: { ca: read('ca.pem') }, connectTimeoutS: 0.3 }).catch((e: unknown) => e);
  const elapsed = performance.now() - started;
  expect(error).toBeInstanceOf(ConnectTimeoutError);
  expect((error as ConnectTimeoutError).code).toBe('CONNECT_TIMEOUT');
  expect((error as Error).message).toContain('connectTimeoutS');
  expect(elapsed).toBeGreaterThanOrEqual(290);
  expect(elapsed).toBeLessThan(3_000);
  await new Promise<void>((r) => silent.close(() => r()));
});

test('TLS with the test CA: verified, and lines flow', async () => {
  const server = await lineServer(undefined, true);
  const socket = await open({ host: '127.0.0.1', port: server.port, tls: { ca: read('ca.pem') } });
  const first = firstValueFrom(socket.lines$);
  socket.send('hello\n');
  expect(await first).toBe('echo hello');
  socket.destroy();
  await server.close();
});

test('TLS without the CA is refused: verification is on unless turned off', async () => {
  const server = await lineServer(undefined, true);
  const error = await open({ host: '127.0.0.1', port: server.port, tls: {} }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectionError);
  expect(String((error as ConnectionError).cause)).toMatch(/self[- ]signed|certificate/i);
  await server.close();
});

test('an oversized line fails lines$ with ProtocolError and closes the socket', async () => {
  const server = await lineServer((s) => s.write('x'.repeat(100)));
  const socket = await open({ host: '127.0.0.1', port: server.port, maxLineBytes: 64 });
  const error = await firstValueFrom(socket.lines$).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProtocolError);
  expect(socket.open).toBe(false);
  await server.close();
});

test('the peer closing completes lines$; unsubscribing destroys the socket', async () => {
  const accepted: Array<(s: net.Socket) => void> = [];
  const nextAccepted = (): Promise<net.Socket> => new Promise((r) => accepted.push(r));
  const server = await lineServer((s) => accepted.shift()?.(s));
  const first = nextAccepted();
  const socket = await open({ host: '127.0.0.1', port: server.port });
  const done = firstValueFrom(socket.lines$.pipe(toArray()));
  (await first).end('bye\n');
  expect(await done).toEqual(['bye']);
  expect(socket.open).toBe(false);

  const second = nextAccepted();
  const sub = connectLineSocket({ host: '127.0.0.1', port: server.port }).subscribe();
  const serverSide = await second;
  const closed = new Promise<void>((r) => serverSide.once('close', () => r()));
  sub.unsubscribe();
  await closed; // the server sees our side go away: nothing left open
  await server.close();
});
