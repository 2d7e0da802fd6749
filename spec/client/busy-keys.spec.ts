import * as net from 'node:net';
import type { SchedulerLike } from 'rxjs';
import { DflockdClient, monotonicScheduler } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { TestServer, startServer } from '../helpers/server.js';

// A busy key skips the try-lock: the pool remembers for a second that the server called the key
// busy, and every `queued` answer renews that memory. Seen on the wire through a relay that
// records what the client sends.

let server: TestServer;
let relay: net.Server;
let relayPort: number;
let sent = '';
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  server = await startServer();
  relay = net.createServer((inbound) => {
    const outbound = net.connect(server.port, '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.on('data', (chunk: Buffer) => {
      sent += chunk.toString('utf8');
      outbound.write(chunk);
    });
    outbound.on('data', (chunk: Buffer) => inbound.write(chunk));
    for (const [a, b] of [[inbound, outbound], [outbound, inbound]] as const) {
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.on('error', () => undefined);
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  relayPort = (relay.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => relay.close(() => resolve()));
  await server.stop();
});

/** Requests of `verb` on `key` seen so far. */
function count(verb: string, key: string, arg?: string): number {
  const lines = sent.split('\n');
  let n = 0;
  for (let i = 0; i + 2 < lines.length; i += 3) if (lines[i] === verb && lines[i + 1] === key && (arg === undefined || lines[i + 2] === arg)) n++;
  return n;
}

test('a queued answer keeps the key marked busy: later acquisitions go straight to the queue', async () => {
  // The client's clock runs ahead on demand, so a second passes without waiting for it.
  let skew = 0;
  const scheduler = { now: () => performance.now() + skew, schedule: monotonicScheduler.schedule } as SchedulerLike;
  const holder = new DflockdClient({ servers: [['127.0.0.1', server.port]] });
  const client = new DflockdClient({ servers: [['127.0.0.1', relayPort]], scheduler });
  try {
    const held = new Recorder(holder.lock('busy'));
    await held.next('acquired');

    const first = new Recorder(client.lock('busy'));
    await first.next('queued');
    expect(count('l', 'busy', '0')).toBe(1); // the try-lock that found the key busy
    first.unsubscribe();

    // 0.9 s later: still busy from the try-lock; this enqueue's `queued` renews the mark.
    skew += 900;
    const second = new Recorder(client.lock('busy'));
    await second.next('queued');
    second.unsubscribe();

    // 1.8 s after the try-lock, 0.9 s after the last `queued`: no try-lock again.
    skew += 900;
    const third = new Recorder(client.lock('busy'));
    await third.next('queued');
    expect(count('l', 'busy', '0')).toBe(1);
    expect(count('e', 'busy')).toBe(3);
    held.unsubscribe();
    await third.next('acquired');
    third.unsubscribe();

    // Over a second after the last word from the server, the key is tried first again.
    skew += 1_100;
    const fourth = new Recorder(client.lock('busy'));
    await fourth.next('acquired');
    expect(count('l', 'busy', '0')).toBe(2);
    fourth.unsubscribe();
  } finally {
    await client.close();
    await holder.close();
  }
});
