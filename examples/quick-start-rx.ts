// Quick start, reactive: a lock is a cold Observable of lease events. Subscribing acquires,
// unsubscribing releases — in whatever phase it is.
import { DflockdClient, whileHeld } from 'dflockd-rx';
import { lastValueFrom, map, tap, timer } from 'rxjs';

// A local dflockd by default; DFLOCKD_SERVERS="host:port,…" points elsewhere.
const servers = process.env['DFLOCKD_SERVERS']?.split(',') ?? ['127.0.0.1:6388'];

async function main(): Promise<void> {
  const client = new DflockdClient({ servers });
  try {
    // whileHeld runs the work once the lock is acquired, tears it down with LeaseLostError if the
    // lease is lost, and releases the lock when the work completes. Not getting the lock is an
    // error too (AcquireTimeoutError, ConnectionError, …): lastValueFrom rejects with it.
    const report = await lastValueFrom(
      client.lock('reports', { acquireTimeoutS: 10 }).pipe(
        tap((event) => console.log(event.type, event.key)), // queued (only if it waited) → acquired → renewed …
        whileHeld((lease) => timer(100).pipe(map(() => `built under ${lease.token}`))),
      ),
    );
    console.log(report);
  } finally {
    await client.close(); // releases whatever is still held, closes every connection
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
