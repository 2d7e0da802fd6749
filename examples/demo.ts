// `npm run demo`: a lock queued, acquired, renewed and released, against an embedded
// DflockdTestServer on a free port (or the servers in DFLOCKD_SERVERS).
import { DflockdClient, LockEvent } from 'dflockd-rx';
import { DflockdTestServer } from 'dflockd-rx/testing';
import { filter, firstValueFrom } from 'rxjs';

const t0 = performance.now();
const log = (who: string, what: string): void => console.log(`${((performance.now() - t0) / 1000).toFixed(3)}s  ${who.padEnd(7)} ${what}`);
// A dflockd 2.1 token starts with its fence (a counter): its random tail tells two tokens apart.
const describe = (ev: LockEvent): string =>
  ev.type === 'acquired' || ev.type === 'renewed' ? `${ev.type} token=…${ev.token.slice(-8)} lease=${ev.leaseS}s` : ev.type === 'lost' ? `lost (${ev.reason})` : ev.type;

async function main(): Promise<void> {
  let server: DflockdTestServer | undefined;
  let servers = process.env['DFLOCKD_SERVERS']?.split(',');
  if (servers === undefined) {
    server = new DflockdTestServer({ port: 0 });
    const port = await server.start();
    servers = [`127.0.0.1:${port}`];
    log('server', `embedded DflockdTestServer on 127.0.0.1:${port}`);
  }
  const client = new DflockdClient({ servers });
  client.events$.pipe(filter((e) => e.type === 'released')).subscribe((e) => log('server', `confirmed release of "${'key' in e ? e.key : ''}"`));

  const alice$ = client.lock('demo', { leaseTtlS: 2, renewRatio: 0.25 });
  const bob$ = client.lock('demo', { acquireTimeoutS: 10 });

  const alice = alice$.subscribe((ev) => log('alice', describe(ev)));
  await firstValueFrom(client.events$.pipe(filter((e) => e.type === 'acquired')));
  const bob = bob$.subscribe((ev) => log('bob', describe(ev)));
  await firstValueFrom(client.events$.pipe(filter((e) => e.type === 'renewed')));

  log('alice', 'done: unsubscribing releases the lock');
  alice.unsubscribe();
  await firstValueFrom(client.events$.pipe(filter((e) => e.type === 'acquired')));
  log('bob', 'done: unsubscribing');
  bob.unsubscribe();

  await client.close();
  await server?.stop();
  log('demo', 'finished: everything released, every socket closed');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
