// Quick start, Promise API: the same as the Python client's `async with DistributedLock(...)`.
import { DistributedLock } from 'dflockd-rx';
import { servers } from './servers.js';

async function main(): Promise<void> {
  // withLock: acquire, run, release; `signal` aborts if the lease is lost.
  await new DistributedLock('my-key', { acquireTimeoutS: 10, servers }).withLock(async (signal, lease) => {
    console.log('holding', lease.token, 'for', lease.leaseS, 's; aborted?', signal.aborted);
  });

  // await using: released when the scope ends, even on throw.
  {
    await using held = await new DistributedLock('my-key', { servers }).hold();
    console.log(held.token, held.lease); // critical section — the lease renews in the background
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
