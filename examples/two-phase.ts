// Two-phase acquisition: join the queue, tell someone, then wait for the grant.
import { DistributedLock } from 'dflockd-rx';
import { servers } from './servers.js';

async function notifyExternalSystem(status: string): Promise<void> {
  console.log('queue position taken:', status);
}

async function main(): Promise<void> {
  const lock = new DistributedLock('my-key', { servers });
  const status = await lock.enqueue(); // 'acquired' or 'queued'; the place is kept alive meanwhile
  await notifyExternalSystem(status);
  if (await lock.wait(10)) { // no-op when already acquired
    try {
      console.log('critical section with token', lock.token);
    } finally {
      await lock.release();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
