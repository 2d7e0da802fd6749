// Recipes: retry with backoff, one lock shared by several components, until something else happens.
import { DflockdClient, whileHeld } from 'dflockd-rx';
import type { AcquiredEvent, LockEvent } from 'dflockd-rx';
import { Subject, filter, firstValueFrom, lastValueFrom, map, retry, share, takeUntil, timer } from 'rxjs';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const client = new DflockdClient({ servers });
  try {
    // Retry with backoff when the key is busy or a server is briefly away.
    const job = await lastValueFrom(
      client.lock('jobs', { acquireTimeoutS: 5 }).pipe(
        retry({ count: 5, delay: (_error, n) => timer(Math.min(30_000, 250 * 2 ** n)) }),
        whileHeld(() => timer(10).pipe(map(() => 'job done'))),
      ),
    );
    console.log(job);

    // One lock shared by several components: held while anyone listens.
    const leader$ = client.lock('leader').pipe(share({ resetOnRefCountZero: true }));
    const isLeader = (event: LockEvent): event is AcquiredEvent => event.type === 'acquired';
    const [a, b] = await Promise.all([firstValueFrom(leader$.pipe(filter(isLeader))), firstValueFrom(leader$.pipe(filter(isLeader)))]);
    console.log('one lease for both:', a.token === b.token);

    // Until something else happens: takeUntil releases when shutdown$ emits.
    const shutdown$ = new Subject<void>();
    const ended = lastValueFrom(client.lock('worker').pipe(takeUntil(shutdown$)), { defaultValue: undefined });
    await firstValueFrom(client.events$.pipe(filter((e) => e.type === 'acquired' && e.key === 'worker')));
    shutdown$.next();
    await ended;
    console.log('worker released on shutdown');
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
