import { Observable, firstValueFrom } from 'rxjs';
import { ConnectionError, DflockdClient, DistributedLock, LeaseLostError } from '../../lib/index.js';
import { FaultConnection, FaultProxy } from '../../lib/testing/index.js';
import { eventually } from '../helpers/eventually.js';
import { TestServer, freePort, startServer } from '../helpers/server.js';

// No facade promise is left pending, whatever phase the lock is in when it is released, disposed
// or aborted. The server asks for a token, so a paused proxy holds the connecting phase open.
const authToken = 'no-pending-token';
let server: TestServer;
let proxy: FaultProxy;
let direct: { servers: Array<[string, number]>; authToken: string };
let proxied: { servers: Array<[string, number]>; authToken: string };

beforeAll(async () => {
  server = await startServer({ authToken });
  proxy = new FaultProxy({ target: { port: server.port } });
  const port = await proxy.start();
  direct = { servers: server.servers, authToken };
  proxied = { servers: [['127.0.0.1', port]], authToken };
});
afterEach(() => proxy.heal());
afterAll(async () => {
  await proxy.stop();
  await server.stop();
});

const waiters = async (key: string): Promise<number> => (await server.stats()).locks.find((l) => l.key === key)?.waiters ?? 0;
const held = async (key: string): Promise<boolean> => (await server.stats()).locks.some((l) => l.key === key && l.owner_conn_id !== 0);
const isAbortError = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError';

/** A lock holding `key` on its own connection, for the duration of a test. */
async function holder(key: string): Promise<DistributedLock> {
  const lock = new DistributedLock(key, direct);
  expect(await lock.acquire()).toBe(true);
  return lock;
}

/** Resolves once the server has `count` waiters on `key` (bounded). */
const queued = (key: string, count = 1): Promise<void> => eventually(async () => (await waiters(key)) === count, `${count} waiter(s) on ${key}`, { timeoutMs: 2000 });

/** A client shared by the locks of one test, through the proxy: its connections can be watched. */
function watchedClient(): { client: DflockdClient; connections: FaultConnection[]; done(): Promise<void> } {
  const connections: FaultConnection[] = [];
  const watching = proxy.connection$.subscribe((c) => connections.push(c));
  const client = new DflockdClient(proxied);
  return {
    client,
    connections,
    done: async () => {
      watching.unsubscribe();
      await client.close();
    },
  };
}

/**
 * The place in the queue was given up, while the client stays open: the connection blocked in
 * the wait was closed, and the key, released by its holder, is not kept by the abandoned place.
 * (A dflockd 1.10 server does not notice a waiter that disconnects while blocked — PROTOCOL.md
 * §1.7 — so its stats still count it until it is granted; later servers drop it at once.)
 */
async function placeGivenUp(key: string, watched: { connections: FaultConnection[] }, other: DistributedLock): Promise<void> {
  // The client's end: the server side of the proxy stays open while a 1.10 server is blocked in `w`.
  await eventually(() => watched.connections.some((c) => c.clientSocket.readableEnded || c.clientSocket.destroyed), 'the queued connection closed', { timeoutMs: 2000 });
  await other.release();
  await eventually(async () => !(await held(key)), `${key} free again`, { timeoutMs: 2000 });
  const next = new DistributedLock(key, { ...direct, acquireTimeoutS: 0 });
  expect(await next.acquire()).toBe(true);
  expect(await next.release()).toBe(true);
}

describe('an already-aborted signal', () => {
  test('rejects every call at once with its reason, and nothing is sent', async () => {
    const client = new DflockdClient(direct);
    const acquisition = jest.spyOn(client, 'acquisition');
    const lock = new DistributedLock('np-pre', { client });
    const reason = new Error('caller gave up');
    const signal = AbortSignal.abort(reason);
    await expect(lock.acquire({ signal })).rejects.toBe(reason);
    await expect(lock.enqueue({ signal })).rejects.toBe(reason);
    await expect(lock.hold({ signal })).rejects.toBe(reason);
    await expect(lock.withLock(async () => 1, { signal })).rejects.toBe(reason);
    await expect(lock.wait(1, { signal })).rejects.toBe(reason);
    expect(acquisition).not.toHaveBeenCalled();
    // client.withLock builds its cold lease stream but never subscribes to it.
    const subscribed = jest.fn();
    acquisition.mockImplementation(() => new Observable<never>(subscribed));
    await expect(client.withLock('np-pre', async () => 1, { signal })).rejects.toBe(reason);
    expect(subscribed).not.toHaveBeenCalled();
    expect(lock.held).toBe(false);
    await client.close();
  });
});

describe('connecting (the auth reply held by a paused proxy)', () => {
  test('release() settles a pending acquire() with false', async () => {
    proxy.pause();
    const accepted = firstValueFrom(proxy.connection$);
    const lock = new DistributedLock('np-connect', proxied);
    const pending = lock.acquire();
    await accepted;
    expect(await lock.release()).toBe(false);
    await expect(pending).resolves.toBe(false);
  });

  test('aborting rejects acquire() with an AbortError', async () => {
    proxy.pause();
    const accepted = firstValueFrom(proxy.connection$);
    const lock = new DistributedLock('np-connect-abort', proxied);
    const controller = new AbortController();
    const pending = lock.acquire({ signal: controller.signal });
    await accepted;
    controller.abort();
    expect(isAbortError(await pending.catch((e: unknown) => e))).toBe(true);
    // The instance is idle again and can be used.
    proxy.heal();
    expect(await lock.acquire()).toBe(true);
    expect(await lock.release()).toBe(true);
  });

  test('disposal settles a pending enqueue() (an AbortError: it has no false to give)', async () => {
    proxy.pause();
    const accepted = firstValueFrom(proxy.connection$);
    let pending: Promise<unknown>;
    {
      await using lock = new DistributedLock('np-connect-dispose', proxied);
      pending = lock.enqueue();
      await accepted;
    }
    expect(isAbortError(await pending.catch((e: unknown) => e))).toBe(true);
  });
});

describe('queued (the key held elsewhere)', () => {
  test('release() settles acquire() with false and gives the place up', async () => {
    const other = await holder('np-queued');
    const watched = watchedClient();
    const lock = new DistributedLock('np-queued', { client: watched.client });
    const pending = lock.acquire();
    await queued('np-queued');
    expect(await lock.release()).toBe(false);
    await expect(pending).resolves.toBe(false);
    await placeGivenUp('np-queued', watched, other);
    await watched.done();
  });

  test('aborting rejects with signal.reason and gives the place up', async () => {
    const other = await holder('np-queued-abort');
    const watched = watchedClient();
    const lock = new DistributedLock('np-queued-abort', { client: watched.client });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = lock.acquire({ signal: controller.signal });
    await queued('np-queued-abort');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(lock.held).toBe(false);
    await placeGivenUp('np-queued-abort', watched, other);
    await watched.done();
  });

  test('await using disposal while acquiring settles acquire() with false', async () => {
    const other = await holder('np-queued-dispose');
    const watched = watchedClient();
    let pending: Promise<boolean>;
    {
      await using lock = new DistributedLock('np-queued-dispose', { client: watched.client });
      pending = lock.acquire();
      await queued('np-queued-dispose');
    }
    await expect(pending).resolves.toBe(false);
    await placeGivenUp('np-queued-dispose', watched, other);
    await watched.done();
  });

  test('hold() aborts the same way', async () => {
    const other = await holder('np-queued-hold');
    const watched = watchedClient();
    const controller = new AbortController();
    const lock = new DistributedLock('np-queued-hold', { client: watched.client });
    const pending = lock.hold({ signal: controller.signal });
    await queued('np-queued-hold');
    controller.abort();
    expect(isAbortError(await pending.catch((e: unknown) => e))).toBe(true);
    await placeGivenUp('np-queued-hold', watched, other);
    await watched.done();
  });

  test('withLock() aborts the same way and never runs the work', async () => {
    const other = await holder('np-queued-with');
    const watched = watchedClient();
    const work = jest.fn(async () => 'ran');
    const controller = new AbortController();
    const pending = new DistributedLock('np-queued-with', { client: watched.client }).withLock(work, { signal: controller.signal });
    await queued('np-queued-with');
    controller.abort();
    expect(isAbortError(await pending.catch((e: unknown) => e))).toBe(true);
    await placeGivenUp('np-queued-with', watched, other);
    expect(work).not.toHaveBeenCalled();
    await watched.done();
  });

  test('client.withLock: aborting while queued rejects with the reason and gives the place up', async () => {
    const other = await holder('np-client-with');
    const watched = watchedClient();
    const controller = new AbortController();
    const pending = watched.client.withLock('np-client-with', async () => 'ran', { signal: controller.signal });
    await queued('np-client-with');
    controller.abort();
    expect(isAbortError(await pending.catch((e: unknown) => e))).toBe(true);
    await placeGivenUp('np-client-with', watched, other);
    await watched.done();
  });
});

describe('two-phase: between enqueue() and wait(), and waiting', () => {
  test('release() between enqueue() and wait() gives the place up', async () => {
    const other = await holder('np-2p-between');
    const lock = new DistributedLock('np-2p-between', direct);
    expect(await lock.enqueue()).toBe('queued');
    await queued('np-2p-between');
    expect(await lock.release()).toBe(false);
    await queued('np-2p-between', 0);
    await other.release();
  });

  test('release() settles a pending wait() with false and gives the place up', async () => {
    const other = await holder('np-2p-wait');
    const watched = watchedClient();
    const lock = new DistributedLock('np-2p-wait', { client: watched.client });
    expect(await lock.enqueue()).toBe('queued');
    const waiting = lock.wait(10);
    expect(await lock.release()).toBe(false);
    await expect(waiting).resolves.toBe(false);
    await placeGivenUp('np-2p-wait', watched, other);
    await watched.done();
  });

  test('aborting a pending wait() rejects with the reason and gives the place up', async () => {
    const other = await holder('np-2p-wait-abort');
    const watched = watchedClient();
    const lock = new DistributedLock('np-2p-wait-abort', { client: watched.client });
    expect(await lock.enqueue()).toBe('queued');
    const controller = new AbortController();
    const reason = new Error('no longer needed');
    const waiting = lock.wait(10, { signal: controller.signal });
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await placeGivenUp('np-2p-wait-abort', watched, other);
    await watched.done();
  });

  test('aborting a pending enqueue() (its reply held) rejects and nothing is left on the server', async () => {
    const lock = new DistributedLock('np-2p-enqueue', proxied);
    // Authenticate first, then hold everything the client sends next (on the connection it kept
    // from that acquisition, or on a new one).
    expect(await lock.acquire()).toBe(true);
    expect(await lock.release()).toBe(true);
    proxy.blackhole({ mode: 'hold', direction: 'toServer' });
    const controller = new AbortController();
    const pending = lock.enqueue({ signal: controller.signal });
    controller.abort();
    expect(isAbortError(await pending.catch((e: unknown) => e))).toBe(true);
    proxy.heal();
    await eventually(async () => !(await held('np-2p-enqueue')) && (await waiters('np-2p-enqueue')) === 0, 'nothing left of the enqueue', { timeoutMs: 2000 });
  });
});

describe('confirming a grant (its renewal held by the proxy)', () => {
  /** A wait() whose grant reached the client while the confirming renewal cannot reach the server. */
  async function confirming(key: string): Promise<{ lock: DistributedLock; other: DistributedLock; waiting: (signal?: AbortSignal) => Promise<{ pending: Promise<boolean> }>; connection: () => FaultConnection }> {
    const other = await holder(key);
    const lock = new DistributedLock(key, proxied);
    const accepted = firstValueFrom(proxy.connection$);
    expect(await lock.enqueue()).toBe('queued');
    const connection = await accepted;
    return {
      lock,
      other,
      connection: () => connection,
      waiting: async (signal) => {
        const sentBefore = connection.bytesToServer;
        const pending = lock.wait(10, signal === undefined ? undefined : { signal });
        // The `w` has reached the server: from now on nothing more gets through.
        await eventually(() => connection.bytesToServer > sentBefore, 'the wait reached the server', { timeoutMs: 2000 });
        connection.pause({ direction: 'toServer' });
        const receivedBefore = connection.bytesToClient;
        await other.release();
        await eventually(() => connection.bytesToClient > receivedBefore, 'the grant reached the client', { timeoutMs: 2000 });
        expect(lock.token).toBeNull(); // granted, not yet confirmed: not held
        return { pending };
      },
    };
  }

  test('release() settles the wait() with false and the grant goes back to the server', async () => {
    const { lock, waiting, connection } = await confirming('np-confirm');
    const { pending } = await waiting();
    expect(await lock.release()).toBe(false);
    await expect(pending).resolves.toBe(false);
    connection().heal(); // lets the close through
    await eventually(async () => !(await held('np-confirm')), 'the grant released (its connection closed)', { timeoutMs: 2000 });
  });

  test('aborting rejects the wait() with the reason', async () => {
    const { waiting, connection } = await confirming('np-confirm-abort');
    const controller = new AbortController();
    const { pending } = await waiting(controller.signal);
    controller.abort();
    expect(isAbortError(await pending.catch((e: unknown) => e))).toBe(true);
    connection().heal(); // lets the close through
    await eventually(async () => !(await held('np-confirm-abort')), 'the grant released (its connection closed)', { timeoutMs: 2000 });
  });
});

describe('held', () => {
  test('withLock: a lease lost mid-work aborts the work\'s signal and rejects with LeaseLostError after the work settles', async () => {
    const accepted = firstValueFrom(proxy.connection$);
    const lock = new DistributedLock('np-held-lost', proxied);
    let settledWork = false;
    const outcome = lock.withLock(async (signal) => {
      (await accepted).reset();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      settledWork = true;
      return 'done';
    });
    await expect(outcome).rejects.toBeInstanceOf(LeaseLostError);
    expect(settledWork).toBe(true);
  });

  test('withLock: aborting the caller\'s signal mid-work aborts the work and rejects with the reason, then releases', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by the caller');
    const lock = new DistributedLock('np-held-abort', direct);
    const outcome = lock.withLock(
      async (signal) => {
        controller.abort(reason);
        expect(signal.aborted).toBe(true);
        expect(signal.reason).toBe(reason);
        return 'done';
      },
      { signal: controller.signal },
    );
    await expect(outcome).rejects.toBe(reason);
    expect(await held('np-held-abort')).toBe(false);
  });
});

describe('"nobody answers" is never "busy"', () => {
  test('acquire() rejects (a connection failure, not false) when the auth reply never comes', async () => {
    proxy.pause();
    const lock = new DistributedLock('np-stalled-auth', { ...proxied, connectTimeoutS: 1 });
    // A ConnectTimeoutError (a ConnectionError) per API.md §8; never `false`.
    await expect(lock.acquire()).rejects.toBeInstanceOf(ConnectionError);
    expect(lock.held).toBe(false);
  });

  test('acquire() rejects with ConnectionError when the server cannot be reached', async () => {
    const lock = new DistributedLock('np-refused', { servers: [['127.0.0.1', await freePort()]], connectTimeoutS: 2 });
    await expect(lock.acquire()).rejects.toBeInstanceOf(ConnectionError);
    expect(lock.held).toBe(false);
  });
});

describe('lost', () => {
  test('release() called from a lost$ handler settles (false): a lost lease gets no release answer', async () => {
    const accepted = firstValueFrom(proxy.connection$);
    const lock = new DistributedLock('np-lost-release', proxied);
    expect(await lock.acquire()).toBe(true);
    const releasedOnLoss = new Promise<boolean>((resolve) => lock.lost$.subscribe(() => resolve(lock.release())));
    (await accepted).reset();
    await expect(releasedOnLoss).resolves.toBe(false);
    expect(lock.token).toBeNull();
    expect(lock.held).toBe(false);
  });
});
