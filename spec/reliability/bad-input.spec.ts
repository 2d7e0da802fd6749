import { firstValueFrom, isObservable } from 'rxjs';
import { DflockdClient, DistributedLock, DistributedSemaphore, InvalidArgumentError, type ClientOptions, type LockOptions } from '../../lib/index.js';
import { FaultProxy } from '../../lib/testing/index.js';
import { type TestServer, startServer } from '../helpers/server.js';

// API.md §5: input that must be refused before anything is sent. Every case goes through the
// public API and must end in an InvalidArgumentError naming the argument, with no socket opened:
// every client here points at a FaultProxy whose accepted connections are counted, in front of a
// server whose own connection count is checked too.

let server: TestServer;
let proxy: FaultProxy;
let accepted = 0;
let servers: Array<[string, number]>;
const made: DflockdClient[] = [];

beforeAll(async () => {
  server = await startServer();
  proxy = new FaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  servers = [['127.0.0.1', await proxy.start()]];
  proxy.connection$.subscribe(() => accepted++);
});
afterAll(async () => {
  await Promise.all(made.map((c) => c.close()));
  await proxy.stop();
  await server.stop();
});

/** A client that is fine itself, for cases about an acquisition's own arguments. */
function client(options: ClientOptions = {}): DflockdClient {
  const c = new DflockdClient({ servers, ...options });
  made.push(c);
  return c;
}

/** Runs an attempt through to its end (constructor, subscription or promise) and returns what it failed with. */
async function outcome(attempt: () => unknown): Promise<unknown> {
  try {
    const out = attempt();
    if (isObservable(out)) return await firstValueFrom(out).then(() => 'no error', (e: unknown) => e);
    if (out instanceof Promise) return await out.then(() => 'no error', (e: unknown) => e);
    return 'no error';
  } catch (error) {
    return error;
  }
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 20 ? `${v.slice(0, 8)}…(${Buffer.byteLength(v)} bytes)` : v) : String(v));

const badKeys: unknown[] = ['', 'a b', 'a\tb', 'a\rb', 'a\nb', 'a\0b', ' lead', 'trail\r', 'x'.repeat(257), 'é'.repeat(129), 42, undefined, null];
const badTokens: unknown[] = ['', 'a b', 'a\tb', 'tok\r', 'tok\n', 'a\0b', 't'.repeat(257), 'é'.repeat(129)];
const badTimeouts: unknown[] = [-1, 1.5, NaN, Infinity, -Infinity, '5', 2 ** 31];
const badLeases: unknown[] = [0, -1, 1.5, NaN, Infinity, '5'];
const badRatios: unknown[] = [0, 1, -0.5, 1.5, NaN, Infinity];
const badSeconds: unknown[] = [0, -1, NaN, Infinity];
const badLimits: unknown[] = [0, -1, 1.5, NaN, Infinity, '2'];

type Case = [what: string, argument: string, attempt: () => unknown];

const cases: Case[] = [
  // Keys, through every entry point that takes one.
  ...badKeys.flatMap((k): Case[] => [
    [`client.lock(${show(k)})`, 'key', () => client().lock(k as string)],
    [`client.semaphore(${show(k)}, 2)`, 'key', () => client().semaphore(k as string, 2)],
    [`client.withLock(${show(k)})`, 'key', () => client().withLock(k as string, async () => 1)],
    [`new DistributedLock(${show(k)})`, 'key', () => new DistributedLock(k as string, { servers })],
    [`new DistributedSemaphore(${show(k)}, 2)`, 'key', () => new DistributedSemaphore(k as string, 2, { servers })],
  ]),
  // Tokens: the auth token, sent as a line of its own.
  ...badTokens.flatMap((t): Case[] => [
    [`new DflockdClient({ authToken: ${show(t)} })`, 'authToken', () => new DflockdClient({ servers, authToken: t as string })],
    [`new DistributedLock('k', { authToken: ${show(t)} })`, 'authToken', () => new DistributedLock('k', { servers, authToken: t as string })],
  ]),
  // Timeouts and leases.
  ...badTimeouts.flatMap((v): Case[] => [
    [`client.lock('k', { acquireTimeoutS: ${show(v)} })`, 'acquireTimeoutS', () => client().lock('k', { acquireTimeoutS: v } as LockOptions)],
    [`client.semaphore('k', 2, { acquireTimeoutS: ${show(v)} })`, 'acquireTimeoutS', () => client().semaphore('k', 2, { acquireTimeoutS: v } as LockOptions)],
    [`new DistributedLock('k', { acquireTimeoutS: ${show(v)} })`, 'acquireTimeoutS', () => new DistributedLock('k', { servers, acquireTimeoutS: v as number })],
    [`lock.wait(${show(v)})`, 'timeoutS', () => new DistributedLock('k', { servers }).wait(v as number)],
  ]),
  ...badLeases.flatMap((v): Case[] => [
    [`client.lock('k', { leaseTtlS: ${show(v)} })`, 'leaseTtlS', () => client().lock('k', { leaseTtlS: v } as LockOptions)],
    [`client.semaphore('k', 2, { leaseTtlS: ${show(v)} })`, 'leaseTtlS', () => client().semaphore('k', 2, { leaseTtlS: v } as LockOptions)],
    [`new DistributedSemaphore('k', 2, { leaseTtlS: ${show(v)} })`, 'leaseTtlS', () => new DistributedSemaphore('k', 2, { servers, leaseTtlS: v as number })],
  ]),
  ...badRatios.flatMap((v): Case[] => [
    [`client.lock('k', { renewRatio: ${show(v)} })`, 'renewRatio', () => client().lock('k', { renewRatio: v } as LockOptions)],
    [`new DflockdClient({ renewRatio: ${show(v)} })`, 'renewRatio', () => new DflockdClient({ servers, renewRatio: v as number })],
  ]),
  ...badSeconds.flatMap((v): Case[] => [
    [`new DflockdClient({ connectTimeoutS: ${show(v)} })`, 'connectTimeoutS', () => new DflockdClient({ servers, connectTimeoutS: v as number })],
    [`new DflockdClient({ serverIdleTimeoutS: ${show(v)} })`, 'serverIdleTimeoutS', () => new DflockdClient({ servers, serverIdleTimeoutS: v as number })],
    [`new DistributedLock('k', { connectTimeoutS: ${show(v)} })`, 'connectTimeoutS', () => new DistributedLock('k', { servers, connectTimeoutS: v as number })],
  ]),
  // Limits.
  ...badLimits.flatMap((v): Case[] => [
    [`client.semaphore('k', ${show(v)})`, 'limit', () => client().semaphore('k', v as number)],
    [`new DistributedSemaphore('k', ${show(v)})`, 'limit', () => new DistributedSemaphore('k', v as number, { servers })],
  ]),
  // Servers.
  ...(
    [
      [[], 'servers'],
      ['127.0.0.1:6388', 'servers'],
      [[['', 6388]], 'servers[0]'],
      [[['bad host', 6388]], 'servers[0]'],
      [[['127.0.0.1', 0]], 'servers[0]'],
      [[['127.0.0.1', 65536]], 'servers[0]'],
      [[['127.0.0.1', 1.5]], 'servers[0]'],
      [[['127.0.0.1', NaN]], 'servers[0]'],
      [[['127.0.0.1', '6388']], 'servers[0]'],
      [['127.0.0.1'], 'servers[0]'],
      [['127.0.0.1:'], 'servers[0]'],
      [['127.0.0.1:abc'], 'servers[0]'],
      [['127.0.0.1:99999'], 'servers[0]'],
      [[{ host: '127.0.0.1' }], 'servers[0]'],
      [[{ host: '', port: 6388 }], 'servers[0]'],
      [[42], 'servers[0]'],
      [[['127.0.0.1', 6388], ['127.0.0.1', -1]], 'servers[1]'],
    ] as Array<[unknown, string]>
  ).flatMap(([spec, argument]): Case[] => [
    [`new DflockdClient({ servers: ${JSON.stringify(spec)} })`, argument, () => new DflockdClient({ servers: spec as ClientOptions['servers'] })],
    [`new DistributedLock('k', { servers: ${JSON.stringify(spec)} })`, argument, () => new DistributedLock('k', { servers: spec as ClientOptions['servers'] })],
  ]),
  // Sharding strategies: not a function, or returning something that is no server index.
  [`new DflockdClient({ shardingStrategy: 'crc' })`, 'shardingStrategy', () => new DflockdClient({ servers, shardingStrategy: 'crc' as unknown as () => number })],
  ...([1.5, -1, 2, NaN, Infinity, '0', undefined] as unknown[]).flatMap((index): Case[] => {
    const two = (): ClientOptions => ({ servers: [servers[0]!, servers[0]!], shardingStrategy: () => index as number });
    return [
      [`client.lock() with a strategy returning ${show(index)}`, 'shardingStrategy', () => client(two()).lock('k')],
      [`client.semaphore() with a strategy returning ${show(index)}`, 'shardingStrategy', () => client(two()).semaphore('k', 2)],
      [`DistributedLock.acquire() with a strategy returning ${show(index)}`, 'shardingStrategy', () => new DistributedLock('k', two()).acquire()],
    ];
  }),
];

describe('API.md §5: refused before anything is sent', () => {
  test.each(cases)('%s → InvalidArgumentError naming %s', async (_what, argument, attempt) => {
    const error = await outcome(attempt);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', argument });
    expect((error as Error).message.startsWith(`${argument}: `)).toBe(true);
  });

  test('…and not one of them opened a socket (proxy and server both saw none)', async () => {
    // A connect would already have been accepted; give any stray one a moment to show up (a fixed
    // wait, since the assertion is that nothing arrives).
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(accepted).toBe(0);
    expect((await server.stats()).connections).toBe(1); // the stats request itself
  });

  test('the counters work: one valid acquisition through the same path is seen', async () => {
    const c = client();
    await firstValueFrom(c.lock('x'.repeat(256), { acquireTimeoutS: 0 }));
    await firstValueFrom(c.lock('é'.repeat(128), { acquireTimeoutS: 0 }));
    expect(accepted).toBeGreaterThanOrEqual(1);
    await c.close();
  });
});
