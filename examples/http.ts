// The same lease Observable over dflockd 2.x's HTTP API: what an Angular service, Deno, Bun or an
// edge function uses. `fetch` and timers only; no Node built-in is imported.
import { DflockdHttpClient, whileHeld } from 'dflockd-rx/http';
import { lastValueFrom, map, timer } from 'rxjs';

// A local dflockd with --http-port 6389 by default; DFLOCKD_HTTP_URL points elsewhere.
const url = process.env['DFLOCKD_HTTP_URL'] ?? 'http://127.0.0.1:6389';

async function main(): Promise<void> {
  const client = new DflockdHttpClient({ url }); // authToken: '…' is sent as a Bearer header
  try {
    // The reactive way: subscribing acquires, unsubscribing (here: the work completing) releases.
    const report = await lastValueFrom(client.lock('reports').pipe(whileHeld((lease) => timer(100).pipe(map(() => `built under ${lease.token}`)))));
    console.log(report);
    // The Promise way: the work's signal aborts if the lease is lost (a session the server ended).
    const rows = await client.withLock('exports', async (signal) => (signal.aborted ? 0 : 42));
    console.log(`exported ${rows} rows`);
  } finally {
    await client.close(); // releases what is still held and deletes the client's sessions
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
