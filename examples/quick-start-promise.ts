// Quick start, Promise API: the same as the Python client's `async with DistributedLock(...)`.
import { DistributedLock } from 'dflockd-rx';

// A local dflockd by default; DFLOCKD_SERVERS="host:port,…" points elsewhere.
const servers = process.env['DFLOCKD_SERVERS']?.split(',') ?? ['127.0.0.1:6388'];

async function main(): Promise<void> {
  const lock = new DistributedLock('my-key', { servers, acquireTimeoutS: 10 });

  // withLock: acquire, run, release — also when the work throws. `signal` aborts if the lease is
  // lost; a busy key rejects with AcquireTimeoutError, an unreachable server with ConnectionError.
  const length = await lock.withLock(async (signal, lease) => {
    console.log('holding', lease.token, 'for', lease.leaseS, 's; aborted?', signal.aborted);
    return lease.token.length;
  });
  console.log('withLock returned', length);

  // await using: released when the scope ends, even on throw.
  {
    await using held = await lock.hold(); // rejects with AcquireTimeoutError when the key stays busy
    console.log(held.token, held.lease); // critical section — the lease renews in the background
  }
  // A lock without `client` has its own connection: kept while it is used again at once, closed once idle.
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
