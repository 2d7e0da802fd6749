// Quick start, reactive: a lock is a cold Observable of lease events; unsubscribing releases it.
import { DflockdClient, whileHeld } from 'dflockd-rx';
import { lastValueFrom, timer, map } from 'rxjs';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const client = new DflockdClient({ servers });

  // Events as they happen: queued (only if it had to wait) → acquired → renewed … → lost.
  const sub = client.lock('my-key', { acquireTimeoutS: 10 }).subscribe((ev) => console.log(ev.type, ev.key));

  // Work while the lease is held: if the lease is lost, the work is torn down with LeaseLostError;
  // when the work completes, the lock is released.
  const result = await lastValueFrom(
    client.lock('reports', { leaseTtlS: 10 }).pipe(whileHeld((lease) => timer(100).pipe(map(() => `built under ${lease.token}`)))),
  );
  console.log(result);

  sub.unsubscribe(); // releases my-key
  await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
