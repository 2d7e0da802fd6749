// Semaphores: up to `limit` holders at once, same API as locks.
import { DflockdClient, DistributedSemaphore } from 'dflockd-rx';
import { servers } from './servers.js';

async function main(): Promise<void> {
  // Promise API: allow up to 3 concurrent workers on this key.
  const client = new DflockdClient({ servers });
  const workers = [1, 2, 3, 4].map((n) =>
    new DistributedSemaphore('my-pool', 3, { client, acquireTimeoutS: 10 }).withLock(async (_signal, lease) => {
      console.log(`worker ${n} holds a slot (${lease.token.slice(0, 8)}…)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }),
  );
  await Promise.all(workers);

  // Reactive API: client.semaphore(key, limit) emits the same events as client.lock(key).
  const sub = client.semaphore('my-pool', 3).subscribe((ev) => console.log('semaphore', ev.type));
  await new Promise((resolve) => setTimeout(resolve, 50));
  sub.unsubscribe();
  await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
