// Cancelling: every waiting call takes an AbortSignal, as fetch does. Aborting rejects with
// signal.reason and gives up the place in the queue; release() settles a pending call with false.
import { DistributedLock } from 'dflockd-rx';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const holder = new DistributedLock('cancel-demo', { servers });
  await holder.acquire(); // someone else holds the key

  const lock = new DistributedLock('cancel-demo', { servers, acquireTimeoutS: 30 });
  try {
    // Wait at most 200 ms here, whatever acquireTimeoutS says.
    await lock.acquire({ signal: AbortSignal.timeout(200) });
  } catch (error) {
    console.log('gave up:', (error as Error).name); // TimeoutError (AbortError for controller.abort())
  }

  // release() while acquire() is pending: the acquire resolves false.
  const pending = lock.acquire();
  console.log('released while waiting:', await lock.release(), '→ acquire() resolved', await pending);

  await holder.release();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
