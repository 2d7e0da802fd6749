// Manual acquire/release.
import { DistributedLock } from 'dflockd-rx';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const lock = new DistributedLock('my-key', { servers });
  if (await lock.acquire()) {
    try {
      console.log('critical section with token', lock.token);
    } finally {
      console.log('released:', await lock.release());
    }
  } else {
    console.log('not acquired within acquireTimeoutS');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
