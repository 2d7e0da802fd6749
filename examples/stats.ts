// Stats: a typed snapshot per server.
import { DflockdClient } from 'dflockd-rx';
import { lastValueFrom, toArray } from 'rxjs';
import { servers } from './servers.js';

async function main(): Promise<void> {
  const client = new DflockdClient({ servers });
  for (const s of await lastValueFrom(client.stats().pipe(toArray()))) {
    console.log(`${s.server}: ${s.connections} connections, ${s.locks.length} locks, ${s.semaphores.length} semaphores, ${s.idleLocks.length} idle`);
    for (const l of s.locks) console.log(`  ${l.key}: ${l.leaseExpiresInS.toFixed(1)} s left, ${l.waiters} waiting`);
  }
  await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
