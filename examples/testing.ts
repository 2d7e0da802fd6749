// Testing your code: an in-process dflockd and a proxy that injects network faults.
import { DistributedLock } from 'dflockd-rx';
import { DflockdTestServer, FaultProxy } from 'dflockd-rx/testing';

async function main(): Promise<void> {
  const server = new DflockdTestServer({ port: 0, readTimeout: 2 });
  const port = await server.start();
  const proxy = new FaultProxy({ target: { host: '127.0.0.1', port } });
  const proxyPort = await proxy.start();
  try {
    const lock = new DistributedLock('under-test', { servers: [['127.0.0.1', proxyPort]] });
    console.log('through the proxy:', await lock.acquire());
    console.log('released:', await lock.release());

    proxy.blackhole(); // a partition: nothing flows, nothing closes
    const outcome = await lock.acquire({ signal: AbortSignal.timeout(300) }).catch((error: unknown) => (error as Error).name);
    console.log('partitioned:', outcome); // TimeoutError: our own bound, the lock was never "busy"
    proxy.heal();
  } finally {
    await proxy.stop();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
