import { EMPTY, NEVER, finalize, firstValueFrom, interval, of, throwError } from 'rxjs';
import { DflockdClient, DistributedLock, LeaseLostError } from '../lib/index.js';
import { FaultProxy } from '../lib/testing/index.js';
import { TestServer, startServer } from './helpers/server.js';

// withLock, on the client and on the facade: how it settles, which error wins, and the signal.
let server: TestServer;
let proxy: FaultProxy;
let client: DflockdClient;
let proxied: { servers: Array<[string, number]> };

beforeAll(async () => {
  server = await startServer();
  proxy = new FaultProxy({ target: { port: server.port } });
  proxied = { servers: [['127.0.0.1', await proxy.start()]] };
  client = new DflockdClient({ servers: server.servers });
});
afterAll(async () => {
  await client.close();
  await proxy.stop();
  await server.stop();
});

const held = async (key: string): Promise<boolean> => (await server.stats()).locks.some((l) => l.key === key && l.owner_conn_id !== 0);

// Both entry points take the same work and must settle the same way.
const runners = [
  ['client.withLock', <T>(key: string, work: Parameters<DflockdClient['withLock']>[1]) => client.withLock(key, work) as Promise<T>],
  ['DistributedLock.withLock', <T>(key: string, work: Parameters<DflockdClient['withLock']>[1]) => new DistributedLock(key, { client }).withLock(work) as Promise<T>],
] as const;

describe.each(runners)('%s settles like lastValueFrom(from(result), { defaultValue: undefined })', (name, run) => {
  const key = (suffix: string): string => `wl-${name.startsWith('client') ? 'c' : 'f'}-${suffix}`;

  test('a Promise gives its value', async () => {
    expect(await run(key('promise'), async () => 42)).toBe(42);
  });

  test('an empty Observable gives undefined (the work succeeded)', async () => {
    expect(await run(key('empty'), () => EMPTY)).toBeUndefined();
    expect(await held(key('empty'))).toBe(false);
  });

  test('an Observable gives its last value', async () => {
    expect(await run(key('obs'), () => of(1, 2, 3))).toBe(3);
  });

  test('an array gives its last value, like an Observable', async () => {
    expect(await run(key('array'), () => [1, 2, 3])).toBe(3);
  });

  test('an erroring Observable rejects with its error, and the lock is released', async () => {
    const boom = new Error('boom');
    await expect(run(key('obs-err'), () => throwError(() => boom))).rejects.toBe(boom);
    expect(await held(key('obs-err'))).toBe(false);
  });

  test('a synchronous throw in the work rejects with it, and the lock is released', async () => {
    const boom = new Error('sync boom');
    await expect(
      run(key('sync-throw'), () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await held(key('sync-throw'))).toBe(false);
  });

  test('the lock is held while the work runs and released once it settles', async () => {
    let during: boolean | undefined;
    await run(key('held'), async () => {
      during = await held(key('held'));
    });
    expect(during).toBe(true);
    expect(await held(key('held'))).toBe(false);
  });
});

describe('the work\'s signal and the lease', () => {
  test('client.withLock: a lease lost mid-work aborts the signal; a Promise work is waited for, then LeaseLostError', async () => {
    const local = new DflockdClient(proxied);
    const accepted = firstValueFrom(proxy.connection$);
    let finished = false;
    const outcome = local.withLock('wl-lost-promise', async (signal) => {
      (await accepted).reset();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      expect(signal.reason).toBeInstanceOf(LeaseLostError);
      finished = true;
      return 'done';
    });
    await expect(outcome).rejects.toBeInstanceOf(LeaseLostError);
    expect(finished).toBe(true);
    await local.close();
  });

  test('client.withLock: an Observable work is torn down when the lease is lost', async () => {
    const local = new DflockdClient(proxied);
    const accepted = firstValueFrom(proxy.connection$);
    let tornDown = false;
    const outcome = local.withLock('wl-lost-obs', () => {
      void accepted.then((c) => c.reset());
      return interval(20).pipe(finalize(() => (tornDown = true)));
    });
    await expect(outcome).rejects.toBeInstanceOf(LeaseLostError);
    expect(tornDown).toBe(true);
    await local.close();
  });

  test('an error from the work wins over the broken connection its release goes to', async () => {
    const local = new DflockdClient(proxied);
    const accepted = firstValueFrom(proxy.connection$);
    const boom = new Error('the work failed');
    const outcome = local.withLock('wl-err-wins', async (signal) => {
      (await accepted).reset();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw boom;
    });
    await expect(outcome).rejects.toBe(boom);
    await local.close();
  });

  test('facade: an error from the work wins over the lease loss and the failed release', async () => {
    const accepted = firstValueFrom(proxy.connection$);
    const boom = new Error('facade work failed');
    const lock = new DistributedLock('wl-f-err-wins', proxied);
    const outcome = lock.withLock(async (signal) => {
      (await accepted).reset();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw boom;
    });
    await expect(outcome).rejects.toBe(boom);
  });

  test('a work that never settles is stopped by the caller\'s signal (Observable work), and the lock released', async () => {
    const controller = new AbortController();
    const reason = new Error('enough');
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let tornDown = false;
    const outcome = client.withLock(
      'wl-never',
      () => {
        started();
        return NEVER.pipe(finalize(() => (tornDown = true)));
      },
      { signal: controller.signal },
    );
    await running;
    controller.abort(reason);
    await expect(outcome).rejects.toBe(reason);
    expect(tornDown).toBe(true);
    expect(await held('wl-never')).toBe(false);
  });
});
