import { concatMap, filter, firstValueFrom, from, lastValueFrom, take, toArray } from 'rxjs';
import { DflockdClient, DistributedLock, type ClientEvent, whileHeld } from '../../lib/index.js';
import { Recorder } from '../helpers/recorder.js';
import { TestServer, startServer } from '../helpers/server.js';

// A worker that re-takes its own key never queues behind its own release.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const CYCLES = 300;

test.each([1, 4, 40])('the Observable job loop, %i worker(s) on one key each: no queued event, every cycle acquired', async (workers) => {
  const client = new DflockdClient({ servers: server.servers });
  const queued: ClientEvent[] = [];
  client.events$.pipe(filter((e) => e.type === 'queued')).subscribe((e) => queued.push(e));
  try {
    const loops = Array.from({ length: workers }, (_, w) =>
      lastValueFrom(
        from(Array.from({ length: CYCLES }, (_, i) => i)).pipe(
          concatMap((job) =>
            client.lock(`job-loop-${w}`).pipe(
              whileHeld(() => Promise.resolve(job)),
              take(1),
            ),
          ),
          toArray(),
        ),
      ),
    );
    const done = await Promise.all(loops);
    expect(done.map((jobs) => jobs.length)).toEqual(Array(workers).fill(CYCLES));
    expect(queued).toEqual([]);
  } finally {
    await client.close();
  }
});

test('subscribe, acquired, unsubscribe, subscribe again: the re-take is ordered after the release', async () => {
  const client = new DflockdClient({ servers: server.servers });
  const queued: ClientEvent[] = [];
  client.events$.pipe(filter((e) => e.type === 'queued')).subscribe((e) => queued.push(e));
  try {
    for (let i = 0; i < CYCLES; i++) await firstValueFrom(client.lock('re-take').pipe(filter((e) => e.type === 'acquired')));
    expect(queued).toEqual([]);
  } finally {
    await client.close();
  }
});

test('the facade loop: acquire, release, acquire again — every acquire true, no queued', async () => {
  const client = new DflockdClient({ servers: server.servers });
  const queued: ClientEvent[] = [];
  client.events$.pipe(filter((e) => e.type === 'queued')).subscribe((e) => queued.push(e));
  const lock = new DistributedLock('facade-loop', { client });
  try {
    for (let i = 0; i < CYCLES; i++) {
      expect(await lock.acquire()).toBe(true);
      expect(await lock.release()).toBe(true);
    }
    expect(queued).toEqual([]);
  } finally {
    await client.close();
  }
});

test("a waiter already queued on the server is served first: the re-take queues for real, and `queued` is the server's word", async () => {
  const client = new DflockdClient({ servers: server.servers });
  const other = new DflockdClient({ servers: server.servers });
  try {
    const mine = new Recorder(client.lock('fair'));
    await mine.next('acquired');
    const theirs = new Recorder(other.lock('fair'));
    await theirs.next('queued');
    mine.unsubscribe();
    const again = new Recorder(client.lock('fair')); // our `r` is on its way
    await theirs.next('acquired');
    await again.next('queued');
    expect(again.count('acquired')).toBe(0);
    theirs.unsubscribe();
    await again.next('acquired');
    again.unsubscribe();
  } finally {
    await other.close();
    await client.close();
  }
});
