// `dflockd-rx stats`, spawned as a real process from the build (`npm test` builds first).
import * as path from 'node:path';
import { type Subscription, filter, firstValueFrom } from 'rxjs';
import { DflockdClient, type LockEvent } from '../../lib/index.js';
import { cli, useCliProcesses } from '../helpers/cli.js';
import { type TestServer, freePort, startServer } from '../helpers/server.js';

const TLS_FIXTURES = path.join(__dirname, '..', 'fixtures', 'tls');

useCliProcesses();

/** Subscribes and resolves once `type` was emitted. */
function until(source: ReturnType<DflockdClient['lock']>, type: LockEvent['type'], subs: Subscription[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    subs.push(source.subscribe({ next: (e) => e.type === type && resolve(), error: reject }));
  });
}

describe('dflockd-rx stats', () => {
  let server: TestServer;
  let servers: string;
  let client: DflockdClient;
  const subs: Subscription[] = [];

  // A held lock with a waiter, a semaphore with one of three slots taken, and an idle key.
  beforeAll(async () => {
    server = await startServer();
    servers = `127.0.0.1:${server.port}`;
    client = new DflockdClient({ servers: server.servers });
    await until(client.lock('alpha', { leaseTtlS: 30 }), 'acquired', subs);
    await until(client.lock('alpha'), 'queued', subs);
    await until(client.semaphore('pool', 3), 'acquired', subs);
    const idle: Subscription[] = [];
    await until(client.lock('gone'), 'acquired', idle);
    const released = firstValueFrom(client.events$.pipe(filter((e) => e.type === 'released' && e.key === 'gone')));
    idle[0]!.unsubscribe();
    await released;
  });
  afterAll(async () => {
    for (const s of subs) s.unsubscribe();
    await client.close();
    await server.stop();
  });

  test('prints a table per server: held locks with lease left and waiters, semaphores, idle keys, connections', async () => {
    const run = cli(['stats'], { DFLOCKD_SERVERS: servers });
    expect(await run.exit).toEqual({ code: 0, signal: null });
    const out = run.out.stdout;
    expect(out).toMatch(new RegExp(`^${servers.replace(/\./g, '\\.')}  connections: \\d+$`, 'm'));
    expect(out).toMatch(/^Locks \(1\)\n {2}KEY +OWNER +LEASE LEFT +WAITERS\n {2}alpha +conn \d+ +\d+\.\ds +1$/m);
    expect(out).toMatch(/^Semaphores \(1\)\n {2}KEY +HOLDERS\/LIMIT +WAITERS\n {2}pool +1\/3 +0$/m);
    expect(out).toMatch(/^Idle keys \(1\)\n {2}KEY +KIND +IDLE\n {2}gone +lock +\d+\.\ds$/m);
    expect(out).not.toContain('\x1b');
  });

  test('--json prints the typed snapshot as valid JSON', async () => {
    const run = cli(['stats', '--json', '--servers', servers]);
    expect(await run.exit).toEqual({ code: 0, signal: null });
    const doc = JSON.parse(run.out.stdout) as { time: string; servers: Array<Record<string, unknown>> };
    expect(Number.isNaN(Date.parse(doc.time))).toBe(false);
    expect(doc.servers).toHaveLength(1);
    expect(doc.servers[0]).toMatchObject({
      server: servers,
      connections: expect.any(Number),
      locks: [{ key: 'alpha', ownerConnId: expect.any(Number), leaseExpiresInS: expect.any(Number), waiters: 1 }],
      semaphores: [{ key: 'pool', limit: 3, holders: 1, waiters: 0 }],
      idleLocks: [{ key: 'gone', idleS: expect.any(Number) }],
      idleSemaphores: [],
    });
  });

  test('--watch S --count N prints N plain snapshots when stdout is not a terminal', async () => {
    const run = cli(['stats', '--watch', '0.05', '--count', '3', '--servers', servers]);
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.out.stdout.match(/^--- \d{4}-\d\d-\d\dT[\d:.]+Z ---$/gm)).toHaveLength(3);
    expect(run.out.stdout.match(/^Locks \(1\)$/gm)).toHaveLength(3);
    expect(run.out.stdout).not.toContain('\x1b');
  });

  test('--watch --json prints one JSON document per line', async () => {
    const run = cli(['stats', '--watch=0.05', '--count=2', '--json', '--servers', servers]);
    expect(await run.exit).toEqual({ code: 0, signal: null });
    const lines = run.out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ servers: [{ server: servers }] });
  });

  test('--watch runs until SIGINT, then exits 0', async () => {
    const run = cli(['stats', '--watch', '--servers', servers]);
    await run.waitFor('Locks (1)');
    run.child.kill('SIGINT');
    expect(await run.exit).toEqual({ code: 0, signal: null });
  });

  test('an unreachable server is reported in the table and exits 69; the others still print', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const run = cli(['stats', '--servers', `${servers},${dead}`]);
    expect(await run.exit).toEqual({ code: 69, signal: null });
    expect(run.out.stdout).toContain('alpha');
    expect(run.out.stdout).toContain(`${dead}  UNREACHABLE`);
    const json = cli(['stats', '--json', '--servers', `${servers},${dead}`]);
    expect(await json.exit).toEqual({ code: 69, signal: null });
    const doc = JSON.parse(json.out.stdout) as { servers: Array<Record<string, unknown>> };
    expect(doc.servers[1]).toMatchObject({ server: dead, error: { code: 'CONNECTION_CLOSED' } });
  });

  test.each([
    [['stats', '--watch', '0'], '--watch'],
    [['stats', '--count', '2'], '--count'],
    [['stats', '--watch', '--count', 'many'], '--count'],
    [['stats', '--json=yes'], '--json'],
    [['stats', 'extra'], 'extra'],
    [['stats', '--servers', ''], '--servers'],
  ])('usage error %j exits 64 naming %s', async (args, flag) => {
    const run = cli(args, { DFLOCKD_SERVERS: servers });
    expect(await run.exit).toEqual({ code: 64, signal: null });
    expect(run.out.stderr).toContain(flag);
    expect(run.out.stdout).toBe('');
  });

  test('--help documents the flags and the exit codes', async () => {
    const run = cli(['stats', '--help']);
    expect(await run.exit).toEqual({ code: 0, signal: null });
    for (const text of ['--watch [S]', '--count', '--json', '--servers', '--tls-insecure', '64', '69', '77']) expect(run.out.stdout).toContain(text);
  });
});

describe('dflockd-rx stats with TLS and auth', () => {
  let server: TestServer;
  let servers: string;
  beforeAll(async () => {
    server = await startServer({ tlsCert: path.join(TLS_FIXTURES, 'server.pem'), tlsKey: path.join(TLS_FIXTURES, 'server-key.pem'), authToken: 'sekrit' });
    servers = `127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop());

  test('--tls-ca verifies the server against the given CA; the token comes from DFLOCKD_AUTH_TOKEN', async () => {
    const run = cli(['stats', '--tls-ca', path.join(TLS_FIXTURES, 'ca.pem'), '--servers', servers], { DFLOCKD_AUTH_TOKEN: 'sekrit' });
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.out.stdout).toContain(`${servers}  connections:`);
  });

  test('--tls alone refuses the test CA (exit 69); --tls-insecure skips verification', async () => {
    const verified = cli(['stats', '--tls', '--servers', servers, '--auth-token', 'sekrit']);
    expect(await verified.exit).toEqual({ code: 69, signal: null });
    expect(verified.out.stdout).toContain('UNREACHABLE');
    const insecure = cli(['stats', '--tls-insecure', '--servers', servers, '--auth-token', 'sekrit']);
    expect(await insecure.exit).toEqual({ code: 0, signal: null });
  });

  test('a refused auth token exits 77', async () => {
    const run = cli(['stats', '--tls-insecure', '--servers', servers, '--auth-token', 'wrong']);
    expect(await run.exit).toEqual({ code: 77, signal: null });
  });
});
