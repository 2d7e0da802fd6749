import { ConnectionError, DflockdClient, DflockdError, ProtocolError } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { type FakeAction, type FakeRequest, FakeServer, expectNoLeaks, fakeToken } from './support.js';

// A "server" that says things dflockd never says. The client must fail the request with a
// ProtocolError (ConnectionError when the reply is cut off), discard the connection, and never
// send another request on it.

/** Correct dflockd answers, for connections the case does not sabotage. */
function behave(request: FakeRequest, n: number): FakeAction {
  switch (request.cmd) {
    case 'l':
    case 'sl':
      return { write: `ok ${fakeToken(n)} 30\n` };
    case 'r':
    case 'sr':
      return { write: 'ok\n' };
    case 'n':
    case 'sn':
      return { write: 'ok 30\n' };
    default:
      return { write: 'error\n' };
  }
}

interface Case {
  readonly name: string;
  /** What the first connection sends back to the first request. */
  readonly reply: FakeAction;
  readonly expected: typeof ProtocolError | typeof ConnectionError;
}

const OVERSIZED = 16 * 1024 * 1024 + 1024;

const cases: Case[] = [
  { name: 'garbage', reply: { write: '\u0000\u00ff garbage \u0007\n' }, expected: ProtocolError },
  { name: 'an unknown reply word', reply: { write: 'granted 0123 30\n' }, expected: ProtocolError },
  { name: 'a reply of the wrong shape (ok without token)', reply: { write: 'ok\n' }, expected: ProtocolError },
  { name: 'a reply for another command (queued to l)', reply: { write: 'queued\n' }, expected: ProtocolError },
  { name: 'a malformed lease (ok <token> soon)', reply: { write: `ok ${fakeToken(1)} soon\n` }, expected: ProtocolError },
  { name: `an oversized line (${OVERSIZED} bytes, no newline)`, reply: { write: Buffer.alloc(OVERSIZED, 0x61) }, expected: ProtocolError },
];

describe.each(cases)('the first reply is $name', ({ reply, expected }) => {
  let fake: FakeServer;
  // While on, every connection answers its first request with the case's reply (so a client
  // retrying on a fresh connection meets it again).
  let sabotage = true;
  const clients: DflockdClient[] = [];
  beforeAll(async () => {
    fake = new FakeServer((request, conn) => (sabotage && conn.requests.length === 1 ? reply : behave(request, 1000 + conn.index * 100 + conn.requests.length)));
    await fake.start();
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await fake.stop();
  });

  test(`${expected.name}; that connection is discarded and never reused, the next acquisition uses a new one`, async () => {
    const client = new DflockdClient({ servers: [['127.0.0.1', fake.port]] });
    clients.push(client);
    const bad = new Recorder(client.lock('garbage'));
    const error = await bad.failure();
    sabotage = false;
    expect(bad.events).toEqual([]);
    expect(error).toBeInstanceOf(expected);
    expect((error as DflockdError).key).toBe('garbage');
    const poisoned = [...fake.connections];
    await Promise.all(poisoned.map((c) => c.closedByClient));

    const good = new Recorder(client.lock('garbage'));
    const acquired = await good.next('acquired');
    good.unsubscribe();
    await client.close();
    // Each poisoned connection carried its one request and nothing after; the new one carried the acquisition and its release.
    for (const conn of poisoned) expect(conn.requests.map((r) => r.cmd)).toEqual(['l']);
    const fresh = fake.connections.slice(poisoned.length);
    expect(fresh.map((c) => c.requests.map((r) => r.cmd))).toEqual([['l', 'r']]);
    expect(acquired.token).toBe(fakeToken(1000 + poisoned.length * 100 + 1));
    await expectNoLeaks(fake.port);
  });
});

describe('a reply cut off (no newline) and then the connection closes', () => {
  let fake: FakeServer;
  beforeAll(async () => {
    fake = new FakeServer((request, conn) => (conn.index < 2 ? { write: `ok ${fakeToken(7)}`, close: 'end' } : behave(request, 200 + conn.requests.length)));
    await fake.start();
  });
  afterAll(() => fake.stop());

  test('ConnectionError, no acquired; the half reply is never taken for a grant; a later acquisition works on a new connection', async () => {
    const client = new DflockdClient({ servers: [['127.0.0.1', fake.port]] });
    const bad = new Recorder(client.lock('cut'));
    const error = await bad.failure();
    expect(error).toBeInstanceOf(ConnectionError);
    expect(bad.events).toEqual([]);
    // Every connection that sent a half reply got exactly one request (the client may retry once on a fresh one).
    for (const conn of fake.connections) expect(conn.requests.map((r) => r.cmd)).toEqual(['l']);
    const good = new Recorder(client.lock('cut'));
    await good.next('acquired');
    good.unsubscribe();
    await client.close();
    await expectNoLeaks(fake.port);
  });
});

describe('an unknown error_* status', () => {
  let fake: FakeServer;
  beforeAll(async () => {
    fake = new FakeServer((request, conn) => (conn.requests.length === 1 && conn.index === 0 ? { write: 'error_from_the_future some detail\n' } : behave(request, 300 + conn.requests.length)));
    await fake.start();
  });
  afterAll(() => fake.stop());

  test('is a DflockdError keeping the status as its code, not a ProtocolError', async () => {
    const client = new DflockdClient({ servers: [['127.0.0.1', fake.port]] });
    const r = new Recorder(client.lock('future'));
    const error = (await r.failure()) as DflockdError;
    expect(error).toBeInstanceOf(DflockdError);
    expect(error).not.toBeInstanceOf(ProtocolError);
    expect(error.code).toBe('error_from_the_future');
    await client.close();
    await expectNoLeaks(fake.port);
  });
});
